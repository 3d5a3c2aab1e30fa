"""Pure parts: placing pins on the replay timeline, the stat page parser, the nginx config, the log filter."""

from __future__ import annotations

import datetime as dt
import io
import logging
import subprocess

import pytest

from zhunong.video import media, monitor
from zhunong.video.redact import REDACTED, RedactStreamKeys, install, redact
from zhunong.video.services import Segment, new_stream_key, place_pins, to_replay_time

T0 = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


# Two recordings: 0-60 s of wall time, a reconnect gap, then 90-150 s. On the replay: 0-60 and 60-120.
SEGMENTS = [Segment(path="1-a.flv", wall_start=at(0), duration=60, offset=0),
            Segment(path="1-b.flv", wall_start=at(90), duration=60, offset=60)]


@pytest.mark.parametrize("wall, replay", [(-5, 0), (0, 0), (30, 30), (60, 60), (75, 60), (90, 60), (100, 70),
                                          (150, 120), (400, 120)])
def test_wall_clock_maps_onto_the_joined_recordings(wall, replay):  # noqa: ANN001
    assert to_replay_time(SEGMENTS, at(wall)) == replay


def test_pins_become_chapters_in_replay_time():
    pins = [(1, 10, at(10), at(40)), (2, 11, at(40), at(100)), (3, 12, at(70), None), (4, 13, at(-20), at(5))]
    chapters = place_pins(SEGMENTS, pins)
    assert [(c.pin_id, c.product_id, c.start_s, c.end_s) for c in chapters] == [
        (4, 13, 0, 5),      # pinned before the recording started: from the beginning
        (1, 10, 10, 40),
        (2, 11, 40, 70),    # spans the reconnect gap
        (3, 12, 60, 120),   # pinned during the gap, never unpinned: from the reconnect to the end
    ]


def test_no_recordings_no_timeline():
    assert to_replay_time([], at(10)) == 0.0
    assert place_pins([], [(1, 1, at(1), None)])[0].end_s == 0.0


STAT = b"""<?xml version="1.0" encoding="utf-8" ?>
<rtmp><nginx_version>1.22.1</nginx_version><server>
<application><name>ingest</name><live>
<stream><name>42</name><time>4624</time><bw_in>2512000</bw_in><bytes_in>63552</bytes_in><bw_out>0</bw_out>
<bytes_out>0</bytes_out><bw_audio>128000</bw_audio><bw_video>2384000</bw_video>
<client><id>5</id><address>127.0.0.1:19350/live</address><flashver>ngx-local-relay</flashver><dropped>0</dropped><active/></client>
<client><id>3</id><address>192.0.2.10</address><time>4800</time><flashver>FMLE/3.0</flashver><dropped>17</dropped><publishing/><active/></client>
<meta><video><width>1280</width><height>720</height><frame_rate>25</frame_rate><codec>H264</codec></video>
<audio><codec>AAC</codec><channels>1</channels></audio></meta><nclients>2</nclients><publishing/><active/></stream>
<stream><name>43</name><time>10</time><bw_in>garbage</bw_in></stream>
<nclients>1</nclients></live></application>
<application><name>live</name><live><stream><name>42</name><client><id>6</id><publishing/></client></stream></live></application>
</server></rtmp>"""


def test_stat_page_parsing():
    stats = {(s.app, s.name): s for s in media.parse_stat(STAT)}
    s = stats[("ingest", "42")]
    assert (s.client_id, s.bitrate_kbps, s.video_kbps, s.audio_kbps) == ("3", 2512, 2384, 128)
    assert (s.width, s.height, s.fps, s.video_codec, s.audio_codec, s.dropped_frames) == (1280, 720, 25, "H264",
                                                                                          "AAC", 17)
    broken = stats[("ingest", "43")]
    assert broken.client_id is None and broken.bitrate_kbps is None and broken.width is None
    assert stats[("live", "42")].client_id == "6"


def test_apply_stats_updates_publishing_ingests(db, settings, tmp_path):  # noqa: ANN001
    from zhunong.testing import build_world
    from zhunong.video import services
    from zhunong.video.models import Connection, Ingest, IngestState

    settings.VIDEO_ROOT = str(tmp_path)
    room = build_world().live_room(status="scheduled")
    key = services.ensure_ingest(stream=room.stream).stream_key
    cb = services.Callback(call="publish", app="ingest", name=key, client_id="3", addr="192.0.2.10", encoder="OBS",
                           path="")
    services.authorize_publish(callback=cb)
    stat = STAT.replace(b"<name>42</name>", f"<name>{room.stream.pk}</name>".encode())
    assert services.apply_stats(stats=media.parse_stat(stat)) == 1
    ingest = Ingest.objects.get(stream=room.stream)
    assert (ingest.bitrate_kbps, ingest.width, ingest.height, ingest.fps, ingest.dropped_frames) == (2512, 1280, 720,
                                                                                                      25, 17)
    # Gone from the stat page for long (a lost callback): treated like a publisher that left.
    later = services.timezone.now() + dt.timedelta(seconds=services.STAT_MISSING_SECONDS + 5)
    services.apply_stats(stats=[], now=later)
    ingest.refresh_from_db()
    assert ingest.state == IngestState.RECONNECTING
    assert Connection.objects.get().end_reason == "publisher missing from the media server"


def test_generated_config_is_complete_and_holds_no_secret_but_the_token(settings, tmp_path):  # noqa: ANN001
    settings.VIDEO_ROOT = str(tmp_path / "v")
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "m")
    settings.VIDEO_CALLBACK_TOKEN = "tok"
    text = media.render_config(callback_base_url="http://127.0.0.1:8000", edge_allow=["198.51.100.7"])
    for needle in ["load_module", "daemon off;", f"pid {tmp_path / 'm' / 'nginx.pid'};", "error_log", "notice;",
                   "access_log off;", "application ingest", "deny play all;",
                   "on_publish http://127.0.0.1:8000/video/rtmp/publish?token=tok;",
                   "on_publish_done http://127.0.0.1:8000/video/rtmp/publish_done?token=tok;",
                   "on_update http://127.0.0.1:8000/video/rtmp/update?token=tok;",
                   "on_record_done http://127.0.0.1:8000/video/rtmp/record_done?token=tok;",
                   "push rtmp://127.0.0.1:1935/live;", "application live", "hls_fragment 2s;",
                   "allow play 198.51.100.7;", "drop_idle_publisher 10s;", "rtmp_stat all;", "rtmp_control all;",
                   "record_path", "record_unique on;", "client_body_temp_path"]:
        assert needle in text, needle
    settings.VIDEO_EDGE_PUSH = "rtmp://203.0.113.5:1935/live"
    settings.VIDEO_EDGE_ALLOW = "203.0.113.6"
    text = media.render_config()
    assert "push rtmp://203.0.113.5:1935/live;" in text.split("application live", 1)[1]
    assert "allow play 203.0.113.6;" in text
    settings.VIDEO_EDGE_PUSH = "rtmp://x/live; exec rm -rf /"
    with pytest.raises(ValueError):
        media.render_config()
    # The HLS application takes streams only from the ingest relay.
    live_app = text.split("application live", 1)[1]
    assert "allow publish 127.0.0.1;" in live_app and "deny publish all;" in live_app


@pytest.mark.skipif(bool(set(media.missing_programs()) & {"nginx", "libnginx-mod-rtmp"}), reason="nginx missing")
def test_nginx_accepts_the_generated_config(settings, tmp_path):  # noqa: ANN001
    settings.VIDEO_ROOT = str(tmp_path / "v")
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "m")
    path = media.write_config()
    ok, message = media.check_config(path)
    assert ok, message
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_media_config_command_prints_the_path_last(settings, tmp_path):  # noqa: ANN001
    from django.core.management import call_command

    settings.VIDEO_ROOT = str(tmp_path / "v")
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "m")
    out = io.StringIO()
    call_command("media", "config", "--platform-url", "http://127.0.0.1:8123", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last == str(tmp_path / "m" / "nginx.conf")
    assert "http://127.0.0.1:8123/video/rtmp/publish" in (tmp_path / "m" / "nginx.conf").read_text()


def test_start_media_server_explains_what_to_install(settings, capsys):  # noqa: ANN001
    settings.VIDEO_NGINX = "/nonexistent/nginx"
    assert media.start_media_server() is None
    out = capsys.readouterr().out
    assert "nginx" in out and "apt-get install nginx libnginx-mod-rtmp ffmpeg" in out


def test_start_media_server_runs_media_run(settings, monkeypatch):  # noqa: ANN001
    calls = []

    class FakePopen:
        def __init__(self, cmd, **kwargs):  # noqa: ANN001, ANN003
            calls.append(cmd)

    monkeypatch.setattr(media, "missing_programs", lambda s=None: [])
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    proc = media.start_media_server(platform_url="http://127.0.0.1:8000", demo_video=True)
    assert isinstance(proc, FakePopen)
    assert calls[0][-5:] == ["media", "run", "--platform-url", "http://127.0.0.1:8000", "--demo-video"]


@pytest.mark.parametrize("given, wanted", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"), ("http://0.0.0.0:8000", "http://127.0.0.1:8000"),
    ("http://:::8000", "http://127.0.0.1:8000"), ("http://::1:8000", "http://[::1]:8000"),
    ("http://localhost:9000/", "http://localhost:9000"),
])
def test_platform_url_for_callbacks(given, wanted):  # noqa: ANN001
    assert media.local_platform_url(given) == wanted


def test_log_filter_blanks_stream_keys():
    key = new_stream_key()
    assert key.startswith("znk_") and len(key) > 30
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactStreamKeys())
    logger = logging.getLogger("zhunong.video.test-redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("publish name=%s from %s", key, "192.0.2.1")
        logger.warning(f"inline {key}")
        try:
            raise ValueError(f"bad key {key}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert key not in text
    assert text.count(REDACTED) == 3  # two messages and the exception line of the traceback
    assert "192.0.2.1" in text
    assert redact("no secrets here") == "no secrets here"


def test_the_filter_is_installed_on_the_root_handlers():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        install()
        assert any(isinstance(f, RedactStreamKeys) for f in handler.filters)
        install()  # idempotent
        assert sum(isinstance(f, RedactStreamKeys) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_bench_frame_numbers_read_back_exactly_after_h264():
    """The latency benchmark's frame code survives the encoder (or the benchmark would measure nothing)."""
    from zhunong.bench import video as bench

    for n in (0, 1, 1234, (1 << 20) - 1):
        assert bench.decode_frame(bench.encode_frame(n, 25)) == n
    damaged = bytearray(bench.encode_frame(77, 25))
    damaged[(16 + 16) * bench.WIDTH + 16 + 16] = 0  # one pixel does not flip a block
    assert bench.decode_frame(bytes(damaged)) == 77
    if media.missing_programs():
        return
    frames = b"".join(bench.encode_frame(n, 25) for n in range(50))
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{bench.WIDTH}x{bench.HEIGHT}",
         "-r", "25", "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "800k", "-g", "50",
         "-f", "mpegts", "pipe:1"], input=frames, capture_output=True, check=True).stdout
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        input=out, capture_output=True, check=True).stdout
    size = bench.WIDTH * bench.HEIGHT
    numbers = [bench.decode_frame(decoded[i:i + size]) for i in range(0, len(decoded), size)]
    assert numbers == list(range(50))


def test_bench_playlist_parser():
    from zhunong.bench import video as bench

    body = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\n5-1.ts\n#EXTINF:1.560,\n5-2.ts\n"
    assert bench.parse_playlist(body) == (2.0, [(2.0, "5-1.ts"), (1.56, "5-2.ts")])


def test_monitor_round_without_a_media_server_still_ends_expired_streams(db, settings, tmp_path):  # noqa: ANN001
    from zhunong.live.models import StreamStatus
    from zhunong.testing import build_world
    from zhunong.video import services

    settings.VIDEO_ROOT = str(tmp_path)
    settings.VIDEO_STAT_URL = "http://127.0.0.1:18699/stat"  # nothing listens there
    settings.VIDEO_GRACE_SECONDS = 1
    room = build_world().live_room(status="scheduled")
    key = services.ensure_ingest(stream=room.stream).stream_key
    cb = services.Callback(call="publish", app="ingest", name=key, client_id="3", addr="", encoder="", path="")
    services.authorize_publish(callback=cb)
    services.publisher_gone(callback=cb, now=services.timezone.now() - dt.timedelta(seconds=5))
    result = monitor.Monitor().run_once()
    assert "stat_error" in result and result["ended"] == [room.stream.pk]
    room.stream.refresh_from_db()
    assert room.stream.status == StreamStatus.ENDED
