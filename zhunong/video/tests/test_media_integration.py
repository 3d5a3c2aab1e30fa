"""End to end through the real media server: nginx-rtmp asks the platform (a live HTTP server on loopback),
ffmpeg publishes a synthetic test pattern, nginx writes HLS and a recording, ffmpeg turns it into a replay.

Runs in the normal suite whenever nginx, its RTMP module and ffmpeg are installed. On CI (CI=true) they
are installed by .ci/run, so a missing program fails the test instead of skipping it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from zhunong.live import streams
from zhunong.live.models import StreamStatus
from zhunong.video import media, services, tasks
from zhunong.video.models import Ingest, IngestState, RefusedPublish, Replay
from zhunong.video.monitor import Monitor
from zhunong.video.publisher import publisher_command

from .conftest import TOKEN


def _free_port(candidates: range, taken: tuple[int, ...] = ()) -> int:
    """A free loopback port from this suite's range, so two test runs at once do not collide."""
    for port in candidates:
        if port in taken:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")

MISSING = media.missing_programs()
ON_CI = os.environ.get("CI") == "true"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING) and not ON_CI, reason=f"not installed: {', '.join(MISSING)}"),
]


class _Platform(LiveServerThread):
    """The platform's WSGI app on a fixed loopback port, in this process (so it sees the test database)."""

    def _create_server(self, connections_override=None):  # noqa: ANN001, ANN202
        # A fixed port: allow rebinding while the previous run's connections are in TIME_WAIT.
        return self.server_class((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=True,
                                 connections_override=connections_override)


def _wait(predicate, timeout: float, what: str, step: float = 0.2):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (loopback)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


@pytest.fixture
def media_server(settings, tmp_path, transactional_db):  # noqa: ANN001, ANN201
    assert not MISSING, f"CI must install {media.DEBIAN_PACKAGES}; missing: {MISSING}"
    # helper h6's port ranges: RTMP 19350-19358, HTTP 18600-18649
    rtmp = _free_port(range(19350, 19359))
    hls = _free_port(range(18600, 18650))
    plat = _free_port(range(18600, 18650), taken=(hls,))
    root = tmp_path / "video"
    settings.VIDEO_ROOT = str(root)
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "media")
    settings.VIDEO_RTMP_PORT = rtmp
    settings.VIDEO_HTTP_PORT = hls
    settings.VIDEO_CALLBACK_TOKEN = TOKEN
    settings.VIDEO_GRACE_SECONDS = 2
    settings.VIDEO_UPDATE_SECONDS = 2
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    platform = _Platform("127.0.0.1", StaticFilesHandler, port=plat)
    platform.daemon = True
    platform.start()
    platform.is_ready.wait()
    if platform.error:
        raise platform.error
    nginx = media.start_nginx(callback_base_url=f"http://127.0.0.1:{plat}")
    monitor = Monitor(interval=0.5)
    monitor.start_thread()
    try:
        yield {"root": root, "rtmp": rtmp, "hls": hls}
    finally:
        monitor.stop()
        media.stop_process(nginx)
        platform.terminate()
        platform.join(5)


def _publish(port: int, key: str, seconds: float) -> subprocess.Popen:
    cmd = publisher_command(url=f"rtmp://127.0.0.1:{port}/ingest/{key}", clock=False, seconds=seconds)
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_publish_play_reconnect_grace_and_shoppable_replay(media_server, world, caplog):  # noqa: ANN001
    room = world.live_room(status="scheduled")
    tomorrow = world.live_room(status="scheduled", starts_in=dt.timedelta(days=1), channel=room.channel, products=0)
    key = services.ensure_ingest(stream=room.stream).stream_key
    tomorrow_key = services.ensure_ingest(stream=tomorrow.stream).stream_key
    sid = room.stream.pk
    root, rtmp, hls_port = media_server["root"], media_server["rtmp"], media_server["hls"]
    hls_dir = root / "hls"

    publisher = _publish(rtmp, key, seconds=7)
    t_live = _wait(lambda: Ingest.objects.filter(stream_id=sid, state=IngestState.PUBLISHING).exists()
                   and time.time(), 10, "the publisher to be accepted")
    room.stream.refresh_from_db()
    assert room.stream.status == StreamStatus.LIVE

    # Refused while the real stream runs: a wrong key, a stream scheduled for tomorrow, a second publisher.
    refused = [_publish(rtmp, "znk_" + "w" * 32, 3), _publish(rtmp, tomorrow_key, 3), _publish(rtmp, key, 3)]
    for proc in refused:
        assert proc.wait(timeout=15) != 0
    assert sorted(RefusedPublish.objects.values_list("code", flat=True)) == [
        "already_publishing", "not_scheduled_now", "unknown_key"]
    tomorrow.stream.refresh_from_db()
    assert tomorrow.stream.status == StreamStatus.SCHEDULED

    # Two products explained during the stream become chapters of the replay.
    time.sleep(max(0.0, t_live + 1.0 - time.time()))
    pin1 = streams.pin_product(actor=room.host.user, stream=room.stream, product=room.products[0])
    time.sleep(2.5)
    pin2 = streams.pin_product(actor=room.host.user, stream=room.stream, product=room.products[1])

    # HLS under the stream id, readable by ffprobe; nothing under any key, nothing for the refused ones.
    playlist_url = f"http://127.0.0.1:{hls_port}/hls/{sid}.m3u8"

    def playlist_with_segments() -> bytes | None:
        status, body = _get(playlist_url)
        return body if status == 200 and len(re.findall(rb"^[^#].*\.ts$", body, re.M)) >= 2 else None

    body = _wait(playlist_with_segments, 12, "an HLS playlist with two segments")
    assert b"#EXTINF" in body
    kinds = {s["codec_type"]: s["codec_name"] for s in media.probe_streams(playlist_url)}
    assert kinds == {"video": "h264", "audio": "aac"}
    names = {p.name for p in hls_dir.iterdir()}
    assert names and all(n.startswith(f"{sid}") for n in names), names
    assert _get(f"http://127.0.0.1:{hls_port}/hls/{key}.m3u8")[0] == 404
    assert _get(f"http://127.0.0.1:{hls_port}/hls/{tomorrow.stream.pk}.m3u8")[0] == 404

    # Health from nginx's stat page (nginx-rtmp 1.2.2 reports the coded height without cropping: 352).
    ingest = _wait(lambda: Ingest.objects.filter(stream_id=sid, stats_at__isnull=False).first(), 6, "stats")
    assert ingest.width == 640 and ingest.height in (352, 360) and ingest.fps == 25
    assert ingest.video_codec == "H264" and ingest.audio_codec == "AAC"

    # The publisher stops: reconnecting (the stream stays live) and, after the 2 s grace, ended.
    assert publisher.wait(timeout=20) == 0
    t_stop = time.monotonic()
    _wait(lambda: Ingest.objects.filter(stream_id=sid, state=IngestState.RECONNECTING).exists(), 5, "reconnecting")
    room.stream.refresh_from_db()
    assert room.stream.status == StreamStatus.LIVE
    _wait(lambda: Ingest.objects.filter(stream_id=sid, state=IngestState.STOPPED).exists(), 8, "the grace to expire")
    assert time.monotonic() - t_stop >= 1.5
    room.stream.refresh_from_db()
    assert room.stream.status == StreamStatus.ENDED

    # The replay: one MP4 with a cover, chapters where the pins were.
    replay = _wait(lambda: Replay.objects.filter(stream_id=sid).first(), 5, "the replay to be queued")
    _wait(lambda: services.recordings_settled(stream_id=sid) and room.stream.recordings.exists(), 5, "the recording")
    assert tasks.build_replay(replay.pk) == "ready"
    replay.refresh_from_db()
    video = Path(root / "replays" / replay.video_path)
    assert video.is_file() and (root / "replays" / replay.cover_path).is_file()
    assert 5.5 <= replay.duration_s <= 8.5, replay.duration_s
    assert abs(media.probe_duration(video) - replay.duration_s) < 0.1
    started = room.stream.recordings.get().started_at
    chapters = list(replay.chapters.order_by("start_s"))
    assert [c.product_id for c in chapters] == [room.products[0].pk, room.products[1].pk]
    assert [c.pin_id for c in chapters] == [pin1.pk, pin2.pk]
    for chapter, pin in zip(chapters, (pin1, pin2), strict=True):
        assert abs(chapter.start_s - (pin.pinned_at - started).total_seconds()) < 0.01
    # Independent of the formula: pinned about 1 s after going live, and 2.5 s apart.
    assert 0.5 <= chapters[0].start_s <= 2.5, chapters[0].start_s
    assert chapters[1].start_s - chapters[0].start_s == pytest.approx(2.5, abs=0.4)
    assert abs(chapters[0].end_s - chapters[1].start_s) < 0.01
    assert chapters[1].end_s == pytest.approx(replay.duration_s, abs=0.01)
    assert _get(f"http://127.0.0.1:{hls_port}/replays/{replay.video_path}")[0] == 200

    # The key never reached a log: not the platform's, not nginx's.
    error_log = (Path(media.media_dir()) / "error.log").read_text()
    leaked = [line for line in caplog.text.splitlines() if key in line]
    assert not leaked, leaked
    assert key not in error_log and tomorrow_key not in error_log
