"""The media server's callbacks: who may publish, reconnect grace, and every kind of bad input.

nginx-rtmp acts on the first digit of the answer: 2xx allows, 3xx renames the stream (Location), anything
else drops the publisher. Refusals are logged and kept for operators, and never contain the key.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from zhunong.live import streams
from zhunong.live.models import StreamStatus
from zhunong.video import services
from zhunong.video.models import Connection, Ingest, IngestState, RefusedPublish, Replay

from .conftest import callback, form

pytestmark = pytest.mark.django_db


def _refusal_codes() -> list[str]:
    return list(RefusedPublish.objects.order_by("id").values_list("code", flat=True))


def _assert_no_key_anywhere(key: str, caplog) -> None:  # noqa: ANN001
    assert key not in caplog.text
    for row in RefusedPublish.objects.values():
        assert all(key not in str(v) for v in row.values())


def test_right_key_goes_live_and_renames_the_stream_to_its_id(client, vroom, key, caplog):  # noqa: ANN001
    caplog.set_level(logging.INFO)
    resp = callback(client, "publish", form(name=key, clientid="11"))
    assert resp.status_code == 302
    assert resp["Location"] == str(vroom.stream.pk)
    vroom.stream.refresh_from_db()
    assert vroom.stream.status == StreamStatus.LIVE
    ingest = Ingest.objects.get(stream=vroom.stream)
    assert ingest.state == IngestState.PUBLISHING
    assert ingest.current.client_id == "11"
    assert ingest.current.addr == "192.0.2.10"
    assert list(ingest.history.values_list("from_state", "to_state")) == [("idle", "publishing")]
    assert key not in caplog.text


def test_publish_done_waits_for_a_reconnect_before_ending(client, vroom, key):  # noqa: ANN001
    callback(client, "publish", form(name=key, clientid="11"))
    resp = callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    assert resp.status_code == 204
    ingest = Ingest.objects.get(stream=vroom.stream)
    vroom.stream.refresh_from_db()
    assert ingest.state == IngestState.RECONNECTING
    assert vroom.stream.status == StreamStatus.LIVE  # a dropped phone does not end the stream
    assert 14 <= (ingest.grace_until - timezone.now()).total_seconds() <= 15
    # Nothing ends before the grace period is over.
    assert services.expire_grace_periods() == []
    # The host is back in time: same stream, a second connection.
    assert callback(client, "publish", form(name=key, clientid="12")).status_code == 302
    ingest.refresh_from_db()
    assert ingest.state == IngestState.PUBLISHING and ingest.grace_until is None
    assert Connection.objects.filter(ingest=ingest).count() == 2


def test_grace_expiry_ends_the_stream_and_queues_the_replay(client, vroom, key):  # noqa: ANN001
    callback(client, "publish", form(name=key, clientid="11"))
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    later = timezone.now() + dt.timedelta(seconds=16)
    assert services.expire_grace_periods(now=later) == [vroom.stream.pk]
    vroom.stream.refresh_from_db()
    assert vroom.stream.status == StreamStatus.ENDED
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.STOPPED
    assert Replay.objects.get(stream=vroom.stream).status == "pending"
    # The key is dead with the stream.
    assert callback(client, "publish", form(name=key, clientid="13")).status_code == 403
    assert _refusal_codes() == ["stream_ended"]


def test_no_grace_period_ends_at_once(client, vroom, key, settings):  # noqa: ANN001
    settings.VIDEO_GRACE_SECONDS = 0
    callback(client, "publish", form(name=key, clientid="11"))
    callback(client, "publish_done", form("publish_done", name=key, clientid="11"))
    vroom.stream.refresh_from_db()
    assert vroom.stream.status == StreamStatus.ENDED


def test_a_second_publisher_on_one_key_is_refused_and_cannot_end_the_first(client, vroom, key, caplog):  # noqa: ANN001
    assert callback(client, "publish", form(name=key, clientid="11")).status_code == 302
    assert callback(client, "publish", form(name=key, clientid="12")).status_code == 403
    assert _refusal_codes() == ["already_publishing"]
    # nginx still reports the refused one leaving; that must not touch the real publisher.
    assert callback(client, "publish_done", form("publish_done", name=key, clientid="12")).status_code == 204
    ingest = Ingest.objects.get(stream=vroom.stream)
    assert ingest.state == IngestState.PUBLISHING and ingest.current.client_id == "11"
    _assert_no_key_anywhere(key, caplog)


def test_the_same_connection_asking_twice_is_allowed(client, vroom, key):  # noqa: ANN001
    assert callback(client, "publish", form(name=key, clientid="11")).status_code == 302
    assert callback(client, "publish", form(name=key, clientid="11")).status_code == 302
    assert Connection.objects.count() == 1


def test_unknown_and_rotated_keys_are_refused(client, vroom, key, caplog):  # noqa: ANN001
    assert callback(client, "publish", form(name="znk_" + "x" * 32)).status_code == 403
    assert callback(client, "publish", form(name="guess")).status_code == 403
    services.rotate_key(stream=vroom.stream, actor=vroom.host.user)
    assert callback(client, "publish", form(name=key)).status_code == 403
    assert _refusal_codes() == ["unknown_key", "unknown_key", "retired_key"]
    assert RefusedPublish.objects.order_by("id").last().stream_id == vroom.stream.pk
    new_key = Ingest.objects.get(stream=vroom.stream).stream_key
    assert new_key != key
    assert callback(client, "publish", form(name=new_key)).status_code == 302
    _assert_no_key_anywhere(key, caplog)
    _assert_no_key_anywhere(new_key, caplog)


def test_wrong_application_is_refused(client, vroom, key):  # noqa: ANN001
    assert callback(client, "publish", form(name=key, app="live")).status_code == 403
    assert callback(client, "publish", form(name=key, app="other")).status_code == 403
    assert _refusal_codes() == ["wrong_app", "wrong_app"]
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.IDLE


def test_unverified_host_unscheduled_and_ended_streams_are_refused(client, world, video_dirs):  # noqa: ANN001
    unverified = world.live_room(status="scheduled", verified=False)
    tomorrow = world.live_room(status="scheduled", starts_in=dt.timedelta(days=1), channel=unverified.channel)
    cancelled = world.live_room(status="scheduled", channel=unverified.channel)
    streams.cancel_stream(actor=world.operator, stream=cancelled.stream, reason="下雨")
    for room in (unverified, tomorrow, cancelled):
        k = services.ensure_ingest(stream=room.stream).stream_key
        assert callback(client, "publish", form(name=k)).status_code == 403
    assert _refusal_codes() == ["host_not_verified", "not_scheduled_now", "stream_ended"]
    tomorrow.stream.refresh_from_db()
    assert tomorrow.stream.status == StreamStatus.SCHEDULED


def test_publish_window_is_configurable(client, world, video_dirs, settings):  # noqa: ANN001
    room = world.live_room(status="scheduled", starts_in=dt.timedelta(minutes=50))
    k = services.ensure_ingest(stream=room.stream).stream_key
    assert callback(client, "publish", form(name=k)).status_code == 403  # default: 30 min early
    settings.VIDEO_PUBLISH_EARLY_MINUTES = 60
    assert callback(client, "publish", form(name=k, clientid="8")).status_code == 302


@pytest.mark.parametrize("remote, token", [("10.0.0.5", None), ("192.168.1.20", None), ("127.0.0.1", "wrong"),
                                           ("127.0.0.1", ""), ("not-an-ip", None)])
def test_callbacks_from_elsewhere_are_refused(client, vroom, key, remote, token, caplog):  # noqa: ANN001
    from .conftest import TOKEN

    resp = callback(client, "publish", form(name=key), remote=remote, token=TOKEN if token is None else token)
    assert resp.status_code == 403
    assert _refusal_codes() == ["forbidden_source"]
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.IDLE
    _assert_no_key_anywhere(key, caplog)


def test_allow_list_is_configurable(client, vroom, key, settings):  # noqa: ANN001
    settings.VIDEO_CALLBACK_ALLOW = "10.0.0.0/24, not-a-network"
    assert callback(client, "publish", form(name=key), remote="127.0.0.1").status_code == 403
    assert callback(client, "publish", form(name=key), remote="10.0.0.5").status_code == 302


@pytest.mark.parametrize("body", [
    "",
    "call=publish",
    "{\"call\": \"publish\"}",
    "app=ingest&call=publish&clientid=1",  # no name
    "app=ingest&call=publish&name=KEY",  # no clientid
    "app=ingest&call=publish&name=KEY&clientid=abc",
    "app=ingest&call=publish&name=KEY&clientid=-1",
    "app=ingest&call=publish&name=KEY&clientid=1&name=other",  # name smuggled in through the query string
    "app=ingest&call=publish&name=KEY&clientid=1&clientid=2",
    "app=ingest&call=play&name=KEY&clientid=1",
    "app=ingest&call=publish_done&name=KEY&clientid=1",  # wrong call for this endpoint
    "app=ing%20est&call=publish&name=KEY&clientid=1",
    "app=ingest&call=publish&name=KEY%00&clientid=1",
    "app=ingest&call=publish&name=KEY%0A&clientid=1",
    "app=ingest&call=publish&name=" + "k" * 129 + "&clientid=1",
    "app=ingest&call=publish&name=%E5%AF%86%E9%92%A5&clientid=1",
    "app=ingest&call=publish&name=KEY&clientid=1&addr=" + "1" * 65,
    "app=ingest&call=publish&name=KEY&clientid=1&flashver=a%0Db",
    "app=ingest&call=publish&name=KEY&clientid=99999999999999999999",
    "%%%&&&===",
])
def test_malformed_callbacks_are_refused_and_change_nothing(client, vroom, key, body, caplog):  # noqa: ANN001
    resp = callback(client, "publish", body.replace("KEY", key))
    assert resp.status_code == 403
    assert _refusal_codes() == ["malformed_callback"]
    ingest = Ingest.objects.get(stream=vroom.stream)
    assert ingest.state == IngestState.IDLE and not Connection.objects.exists()
    vroom.stream.refresh_from_db()
    assert vroom.stream.status == StreamStatus.SCHEDULED
    _assert_no_key_anywhere(key, caplog)


def test_too_many_fields_is_malformed_not_a_crash(client, vroom, key):  # noqa: ANN001
    body = "&".join(f"f{i}=1" for i in range(1200)) + f"&app=ingest&call=publish&name={key}&clientid=1"
    assert callback(client, "publish", body).status_code == 403
    assert _refusal_codes() == ["malformed_callback"]


def test_other_methods_and_unknown_events(client, video_dirs):  # noqa: ANN001
    assert client.get("/video/rtmp/publish?token=x").status_code == 405
    assert client.post("/video/rtmp/play?token=x", data="", content_type="application/x-www-form-urlencoded"
                       ).status_code == 404
    assert client.post("/video/rtmp/publish/?token=x").status_code == 404


def test_publish_done_and_record_done_for_strangers_are_ignored(client, vroom, key):  # noqa: ANN001
    assert callback(client, "publish_done", form("publish_done", name=key, clientid="99")).status_code == 204
    assert callback(client, "publish_done", form("publish_done", name="nobody", clientid="99")).status_code == 204
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.IDLE


def test_update_keeps_relays_and_drops_rotated_or_ended_publishers(client, vroom, key):  # noqa: ANN001
    relay = {"app": "", "flashver": "ngx-local-relay", "addr": "127.0.0.1:1935/live", "clientid": "5",
             "call": "update_play", "time": "2", "timestamp": "1280", "name": str(vroom.stream.pk)}
    assert callback(client, "update", relay).status_code == 204
    stranger_play = dict(relay, app="ingest", flashver="LNX 9,0,124,2")
    assert callback(client, "update", stranger_play).status_code == 403
    callback(client, "publish", form(name=key, clientid="11"))
    update = form("update_publish", name=key, clientid="11", time="10", timestamp="9000")
    update.pop("type", None)
    assert callback(client, "update", update).status_code == 204
    services.rotate_key(stream=vroom.stream, actor=vroom.host.user)
    assert callback(client, "update", update).status_code == 403  # nginx drops the old key's publisher
    assert _refusal_codes() == ["malformed_callback", "retired_key"]


def test_update_after_the_host_ended_the_stream_drops_the_publisher(client, vroom, key):  # noqa: ANN001
    callback(client, "publish", form(name=key, clientid="11"))
    streams.end_stream(stream=vroom.stream, actor=vroom.host.user, reason="卖完了")
    update = form("update_publish", name=key, clientid="11")
    assert callback(client, "update", update).status_code == 403
    # The monitor notices the ended stream too and stops the ingest.
    assert services.stop_ended_streams() == [vroom.stream.pk]
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.STOPPED


def test_record_done_registers_only_files_of_that_stream_inside_the_record_dir(client, vroom, key, video_dirs):  # noqa: ANN001
    from zhunong.video.models import Recording

    callback(client, "publish", form(name=key, clientid="11"))
    records = video_dirs / "records"
    good = records / f"{vroom.stream.pk}-1795624859.flv"
    good.write_bytes(b"FLV" + b"\0" * 100)
    other = records / f"{vroom.stream.pk + 1000}-1795624859.flv"
    other.write_bytes(b"FLV" + b"\0" * 100)
    empty = records / f"{vroom.stream.pk}-1795624860.flv"
    empty.write_bytes(b"")

    def done(path: str):  # noqa: ANN202
        return callback(client, "record_done", form("record_done", name=key, clientid="11", recorder="", path=path))

    assert done("/etc/passwd").status_code == 403
    assert done(str(records / ".." / "records" / ".." / "x.flv")).status_code == 403
    assert done("relative.flv").status_code == 403
    assert done(str(other)).status_code == 403
    assert done(str(empty)).status_code == 204
    assert not Recording.objects.exists()
    assert done(str(good)).status_code == 204
    assert done(str(good)).status_code == 204  # repeated: still one
    rec = Recording.objects.get()
    assert rec.path == good.name and rec.size_bytes == 103 and rec.stream_id == vroom.stream.pk


def test_a_media_server_restart_gives_every_publisher_its_grace(client, vroom, key):  # noqa: ANN001
    callback(client, "publish", form(name=key, clientid="11"))
    assert services.media_server_restarted() == 1
    assert Ingest.objects.get(stream=vroom.stream).state == IngestState.RECONNECTING


def test_internal_errors_refuse_rather_than_allow(client, vroom, key, monkeypatch):  # noqa: ANN001
    def boom(**_):  # noqa: ANN003, ANN202
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "authorize_publish", boom)
    assert callback(client, "publish", form(name=key)).status_code == 500
