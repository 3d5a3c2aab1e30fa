"""Pages, includes and API: the key only for its host, health for operators, player states, replays."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.services import issue_token
from zhunong.live import streams
from zhunong.testing import PASSWORD, make_user
from zhunong.video import services
from zhunong.video.models import Ingest, Recording, Replay, ReplayStatus

from .conftest import callback, form

pytestmark = pytest.mark.django_db


def _publish(client, key: str, clientid: str = "11") -> None:  # noqa: ANN001
    assert callback(client, "publish", form(name=key, clientid=clientid)).status_code == 302


def _login(client, user) -> None:  # noqa: ANN001
    client.force_login(user)


def _render_player(stream, user=None) -> str:  # noqa: ANN001
    request = RequestFactory().get("/live/1/")
    request.user = user or make_user(roles.BUYER)
    tpl = Template('{% include "video/_player.html" with stream=stream %}')
    return tpl.render(Context({"stream": stream, "request": request}))


def _ready_replay(client, vroom, key, video_dirs):  # noqa: ANN001, ANN202
    """A finished stream with two pins and a replay marked ready through the services (no ffmpeg)."""
    _publish(client, key)
    pin1 = streams.pin_product(actor=vroom.host.user, stream=vroom.stream, product=vroom.products[0])
    pin2 = streams.pin_product(actor=vroom.host.user, stream=vroom.stream, product=vroom.products[1])
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    path = video_dirs / "records" / f"{vroom.stream.pk}-1795624859.flv"
    path.write_bytes(b"FLV" + b"\0" * 10)
    callback(client, "record_done", form("record_done", name=key, clientid="11", recorder="", path=str(path)))
    services.expire_grace_periods(now=timezone.now() + dt.timedelta(seconds=20))
    replay = Replay.objects.get(stream=vroom.stream)
    replay, recordings = services.begin_replay(replay_id=replay.pk)
    rec = recordings[0]
    start = rec.started_at
    Replay.objects.filter(pk=replay.pk)  # noqa: B018
    segs = [services.Segment(path=rec.path, wall_start=start, duration=120.0, offset=0.0)]
    # Pins at known offsets into the recording.
    type(pin1).objects.filter(pk=pin1.pk).update(pinned_at=start + dt.timedelta(seconds=10),
                                                  unpinned_at=start + dt.timedelta(seconds=40))
    type(pin2).objects.filter(pk=pin2.pk).update(pinned_at=start + dt.timedelta(seconds=40),
                                                  unpinned_at=start + dt.timedelta(seconds=300))
    return services.finish_replay(replay_id=replay.pk, video_path=f"{replay.pk}/replay.mp4",
                                  cover_path=f"{replay.pk}/cover.jpg", duration_s=120.0, size_bytes=1000,
                                  segments=segs)


# --- host console and operator page --------------------------------------------------------------------------

def test_ingest_panel_shows_the_key_only_to_the_host(client, vroom, key):  # noqa: ANN001
    url = f"/video/streams/{vroom.stream.pk}/panel/"
    _login(client, vroom.host.user)
    page = client.get(url).content.decode()
    assert key in page and "rtmp://127.0.0.1:19359/ingest" in page and "关键帧间隔 2 秒" in page
    _login(client, vroom.world.operator)
    resp = client.get(url)
    assert resp.status_code == 200 and key not in resp.content.decode()
    _login(client, make_user(roles.BUYER))
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 403


def test_host_rotates_the_key_others_cannot(client, vroom, key):  # noqa: ANN001
    url = f"/video/streams/{vroom.stream.pk}/key/rotate/"
    _login(client, vroom.world.operator)
    assert client.post(url).status_code == 403
    assert Ingest.objects.get(stream=vroom.stream).stream_key == key
    _login(client, vroom.host.user)
    assert client.get(url).status_code == 405
    resp = client.post(url, {"next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == f"/video/streams/{vroom.stream.pk}/panel/"
    new_key = Ingest.objects.get(stream=vroom.stream).stream_key
    assert new_key != key
    assert new_key in client.get(resp["Location"]).content.decode()


def test_operator_page_lists_live_ingests_of_their_region(client, vroom, key, world):  # noqa: ANN001
    from zhunong.testing import build_world

    _publish(client, key)
    callback(client, "publish", form(name="znk_unknownunknownunknown", clientid="12"))
    _login(client, world.operator)
    page = client.get("/video/ingests/").content.decode()
    assert vroom.stream.title in page and "推流中" in page and "FMLE/3.0" in page
    assert key not in page
    other_county = build_world()
    _login(client, other_county.operator)
    page = client.get("/video/ingests/").content.decode()
    assert vroom.stream.title not in page and "unknown_key" not in page
    admin = make_user(roles.PLATFORM_ADMIN)
    _login(client, admin)
    page = client.get("/video/ingests/", HTTP_HX_REQUEST="true").content.decode()
    assert vroom.stream.title in page and "unknown_key" in page and "<html" not in page
    _login(client, make_user(roles.BUYER))
    assert client.get("/video/ingests/").status_code == 403
    client.logout()
    assert client.get("/video/ingests/").status_code == 302


# --- the player -------------------------------------------------------------------------------------------------

def test_player_states_follow_the_ingest(client, vroom, key):  # noqa: ANN001
    html = _render_player(vroom.stream)
    assert 'data-state="upcoming"' in html and "vendor/hls/hls.min.js" in html and 'data-hls=""' in html
    _publish(client, key)
    vroom.stream.refresh_from_db()
    html = _render_player(vroom.stream)
    assert 'data-state="live"' in html
    assert f'data-hls="http://127.0.0.1:18698/hls/{vroom.stream.pk}.m3u8"' in html and key not in html
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    assert 'data-state="reconnecting"' in _render_player(vroom.stream)
    services.expire_grace_periods(now=timezone.now() + dt.timedelta(seconds=20))
    vroom.stream.refresh_from_db()
    html = _render_player(vroom.stream)
    assert 'data-state="ended"' in html and 'data-hls=""' in html


def test_playback_api(client, vroom, key):  # noqa: ANN001
    url = f"/api/v1/video/streams/{vroom.stream.pk}/playback"
    assert client.get(url).json() == {"stream_id": vroom.stream.pk, "state": "upcoming", "hls_url": None,
                                      "replay_url": None}
    _publish(client, key)
    body = client.get(url).json()
    assert body["state"] == "live" and body["hls_url"].endswith(f"/hls/{vroom.stream.pk}.m3u8")
    assert client.get("/api/v1/video/streams/999999/playback").json()["code"] == "stream_not_found"
    assert client.get("/api/v1/video/streams/0/playback").status_code == 422


# --- the key over the API -----------------------------------------------------------------------------------

def _bearer(user) -> dict:  # noqa: ANN001
    _user, token = issue_token(username=user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_key_api_is_for_the_host_only(client, vroom, key):  # noqa: ANN001
    url = f"/api/v1/video/streams/{vroom.stream.pk}/key"
    assert client.get(url).status_code == 401
    resp = client.get(url, **_bearer(vroom.world.operator))
    assert resp.status_code == 403 and resp.json()["code"] == "not_stream_host" and key not in resp.content.decode()
    body = client.get(url, **_bearer(vroom.host.user)).json()
    assert body["stream_key"] == key and body["obs"]["keyframe_interval_s"] == 2
    rotated = client.post(url + "/rotate", **_bearer(vroom.host.user)).json()
    assert rotated["stream_key"] != key
    assert client.post(url + "/rotate", **_bearer(vroom.world.operator)).status_code == 403


def test_ingest_api_for_host_and_operator(client, vroom, key):  # noqa: ANN001
    from zhunong.testing import build_world

    url = f"/api/v1/video/streams/{vroom.stream.pk}/ingest"
    _publish(client, key)
    for user in (vroom.host.user, vroom.world.operator):
        body = client.get(url, **_bearer(user)).json()
        assert body["state"] == "publishing" and "stream_key" not in body
    assert client.get(url, **_bearer(build_world().operator)).status_code == 403
    assert client.get(url, **_bearer(make_user(roles.BUYER))).status_code == 403


# --- replays ------------------------------------------------------------------------------------------------

def test_replay_pages_work_without_javascript(client, vroom, key, video_dirs):  # noqa: ANN001
    replay = _ready_replay(client, vroom, key, video_dirs)
    assert [(c.start_s, c.end_s) for c in replay.chapters.all()] == [(10.0, 40.0), (40.0, 120.0)]
    page = client.get("/replays/").content.decode()
    assert vroom.stream.title in page and f"/replays/{replay.pk}/?t=10" in page
    assert f"http://127.0.0.1:18698/replays/{replay.pk}/cover.jpg" in page
    detail = client.get(f"/replays/{replay.pk}/?t=50").content.decode()
    shelf = detail.split('id="zn-shelf-now"', 1)[1].split("</aside>", 1)[0]
    assert vroom.products[1].name in shelf and vroom.products[0].name not in shelf
    assert f'href="/p/{vroom.products[1].pk}/"' in shelf
    # The buy box (the orders app's form when installed, else a link) for what was shown at that moment.
    assert f'name="product_id" value="{vroom.products[1].pk}"' in shelf or "去购买" in shelf
    assert "#t=50" in detail
    shelf0 = client.get(f"/replays/{replay.pk}/?t=5").content.decode().split('id="zn-shelf-now"', 1)[1]
    assert "这一段没有讲解商品" in shelf0.split("</aside>", 1)[0]
    for bad in ("abc", "-5", "1e9", "nan"):
        assert client.get(f"/replays/{replay.pk}/?t={bad}").status_code == 200
    assert client.get("/replays/999999/").status_code == 404
    api = client.get(f"/api/v1/video/replays/{replay.pk}").json()
    assert [(c["product_id"], c["start"], c["end"]) for c in api["chapters"]] == [
        (vroom.products[0].pk, 10.0, 40.0), (vroom.products[1].pk, 40.0, 120.0)]
    assert client.get("/api/v1/video/replays").json()["count"] == 1


def test_replays_not_ready_are_not_shown(client, vroom, key, video_dirs):  # noqa: ANN001
    _publish(client, key)
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    services.expire_grace_periods(now=timezone.now() + dt.timedelta(seconds=20))
    replay = Replay.objects.get(stream=vroom.stream)
    assert client.get(f"/replays/{replay.pk}/").status_code == 404
    assert "还没有回放" in client.get("/replays/").content.decode()
    out = io.StringIO()
    call_command("media", "replays", "--dry-run", stdout=out)
    assert f"would build replay {replay.pk}" in out.getvalue()
    # Without readable recordings the build fails with a reason, and can be retried.
    from zhunong.video.tasks import build_replay

    assert build_replay(replay.pk) == "failed"
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.FAILED and replay.error == "no readable recordings"
    assert list(replay.history.values_list("to_status", flat=True)) == ["processing", "failed"]


def test_purge_respects_retention_and_dry_run(client, vroom, key, video_dirs, settings):  # noqa: ANN001
    replay = _ready_replay(client, vroom, key, video_dirs)
    folder = video_dirs / "replays" / str(replay.pk)
    folder.mkdir()
    (folder / "replay.mp4").write_bytes(b"mp4")
    record = video_dirs / "records" / Recording.objects.get().path
    orphan = video_dirs / "records" / "999-1.flv"
    orphan.write_bytes(b"")
    old = (timezone.now() - dt.timedelta(days=2)).timestamp()
    os.utime(orphan, (old, old))
    fresh_orphan = video_dirs / "records" / "999-2.flv"
    fresh_orphan.write_bytes(b"")

    out = io.StringIO()
    call_command("media", "purge", "--dry-run", stdout=out)
    assert "would delete: 0 replay(s), 0 recording(s), 1 unregistered" in out.getvalue()
    assert orphan.exists()

    three_years = timezone.now() + dt.timedelta(days=3 * 365 + 1)
    plan = services.purge(dry_run=True, now=three_years)
    assert plan.replays == [replay.pk] and len(plan.recordings) == 1
    assert folder.exists() and record.exists()
    services.purge(dry_run=False, now=three_years)
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.PURGED and replay.purged_at is not None
    assert not folder.exists() and not record.exists() and not orphan.exists() and not fresh_orphan.exists()
    assert Recording.objects.get().purged_at is not None
    assert client.get(f"/replays/{replay.pk}/").status_code == 404


def test_retention_is_configurable(client, vroom, key, video_dirs, settings):  # noqa: ANN001
    settings.VIDEO_RETENTION_DAYS = 2000
    replay = _ready_replay(client, vroom, key, video_dirs)
    assert 1999 <= (replay.keep_until - timezone.now()).days <= 2000
    assert services.plan_purge(now=timezone.now() + dt.timedelta(days=1999)).replays == []
    assert services.plan_purge(now=timezone.now() + dt.timedelta(days=2001)).replays == [replay.pk]


@pytest.mark.parametrize("days", [-1, 0, 1, 30, 1094])
def test_a_retention_under_three_years_is_refused(client, vroom, key, video_dirs, settings, days):  # noqa: ANN001
    from django.core.management.base import CommandError

    from zhunong.core.errors import ValidationFailed
    from zhunong.video import checks

    settings.VIDEO_RETENTION_DAYS = days
    assert [e.id for e in checks.check_retention(None)] == ["video.E002"]
    replay = _ready_replay(client, vroom, key, video_dirs)
    assert (replay.keep_until - timezone.now()).days >= 1094  # never kept less than three years
    with pytest.raises(ValidationFailed):
        services.plan_purge(now=timezone.now() + dt.timedelta(days=4000))
    with pytest.raises(CommandError, match="1095"):
        call_command("media", "purge", "--dry-run", stdout=io.StringIO())
    assert Replay.objects.get(pk=replay.pk).status == ReplayStatus.READY


def test_a_stream_an_open_case_is_about_keeps_its_video(client, vroom, key, video_dirs, monkeypatch):  # noqa: ANN001
    from zhunong.live import hooks

    replay = _ready_replay(client, vroom, key, video_dirs)
    monkeypatch.setitem(hooks._providers, "test", lambda ids: {vroom.stream.pk} & set(ids))
    later = timezone.now() + dt.timedelta(days=3 * 365 + 1)
    plan = services.plan_purge(now=later)
    assert plan.replays == [] and plan.recordings == []
    monkeypatch.delitem(hooks._providers, "test")
    plan = services.plan_purge(now=later)
    assert plan.replays == [replay.pk] and len(plan.recordings) == 1


def test_demo_seed_gives_streams_keys(vroom):  # noqa: ANN001
    from zhunong.demo import video as demo
    from zhunong.video import publisher

    out = io.StringIO()
    demo.seed(stdout=out, dry_run=False)
    assert Ingest.objects.filter(stream=vroom.stream).exists()
    assert "1 stream key" in out.getvalue()
    demo.seed(stdout=out, dry_run=False)
    assert "stream keys present" in out.getvalue()
    assert publisher.demo_stream() == vroom.stream


def test_admin_never_shows_the_key(client, vroom, key):  # noqa: ANN001
    from zhunong.testing import make_admin

    client.force_login(make_admin())
    ingest = Ingest.objects.get(stream=vroom.stream)
    for url in ("/admin/video/ingest/", f"/admin/video/ingest/{ingest.pk}/change/"):
        resp = client.get(url)
        assert resp.status_code == 200 and key not in resp.content.decode()


def test_an_ended_room_links_its_replay_or_says_it_is_being_made(client, vroom, key, video_dirs):  # noqa: ANN001
    """Never "看回放" to a list without this stream's replay: until it is ready the player says so."""
    _publish(client, key)
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    services.expire_grace_periods(now=timezone.now() + dt.timedelta(seconds=20))
    vroom.stream.refresh_from_db()
    html = _render_player(vroom.stream)
    assert 'href=""' in html and "hidden>看回放" in html and "回放生成中" in html
    assert 'href="/replays/"' not in html


def test_an_ended_room_with_a_ready_replay_links_it(client, vroom, key, video_dirs):  # noqa: ANN001
    replay = _ready_replay(client, vroom, key, video_dirs)
    vroom.stream.refresh_from_db()
    html = _render_player(vroom.stream)
    assert f'href="/replays/{replay.pk}/">看回放' in html and "回放生成中" not in html


def test_console_after_the_end_does_not_say_publishing(client, vroom, key):  # noqa: ANN001
    """The host ended the stream in the console while the encoder still pushes: not "推流中"."""
    _publish(client, key)
    _login(client, vroom.host.user)
    assert "推流中" in client.get(f"/video/streams/{vroom.stream.pk}/panel/").content.decode()
    streams.end_stream(stream=vroom.stream, actor=vroom.host.user)
    panel = client.get(f"/video/streams/{vroom.stream.pk}/panel/").content.decode()
    assert "推流中" not in panel and "直播已结束" in panel and "请在推流软件里停止推流" in panel


def test_a_started_stream_without_picture_does_not_say_starting_soon(vroom):  # noqa: ANN001
    """After 开始直播, before the encoder pushes, the player's waiting sentence is the live one (CSS picks it
    from the room's data-status, which room.js keeps current)."""
    html = _render_player(vroom.stream)
    assert 'class="zn-when-scheduled"' in html and "已开播，等待主播推流画面…" in html
    css = (Path(__file__).resolve().parents[1] / "static" / "video" / "video.css").read_text()
    assert '[data-status="live"] .zn-when-scheduled { display: none; }' in css
