"""`zhunong media run` and `zhunong media monitor`: nginx in the foreground, the monitor that applies the
stat page's health figures and ends streams whose reconnect grace ran out, and optionally the demo
publisher. It drives the media engine (media.py) and the services; media.py itself knows nothing of them.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import urllib.error
import xml.etree.ElementTree as ET

from django.db import close_old_connections, connection, connections

from . import media, services
from .conf import video_settings
from .publisher import start_demo_publisher

log = logging.getLogger("zhunong.video.media")


class Monitor:
    """Polls the stat page for health, ends streams whose grace period ran out, and stops ingest for
    streams the live app ended. Runs next to nginx (`zhunong media run`) or alone (`zhunong media monitor`)."""

    def __init__(self, *, interval: float = 2.0) -> None:
        self.interval = interval
        self.stop_event = threading.Event()

    def run_once(self) -> dict:
        if not connection.in_atomic_block:  # a long-running loop: drop connections the database closed
            close_old_connections()
        result: dict = {}
        try:
            result["stats"] = services.apply_stats(stats=media.parse_stat(media.fetch_stat()))
        except (urllib.error.URLError, OSError, ET.ParseError) as exc:
            result["stat_error"] = str(exc)[:200]
        result["ended"] = services.expire_grace_periods()
        result["stopped"] = services.stop_ended_streams()
        return result

    def run_forever(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    self.run_once()
                except Exception:  # keep monitoring; the next round may succeed (database restart, ...)
                    log.exception("media monitor round failed")
                self.stop_event.wait(self.interval)
        finally:
            connections.close_all()  # this thread's own connections

    def start_thread(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run_forever, name="media-monitor", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        self.stop_event.set()
        thread = getattr(self, "thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)


def run_media(*, platform_url: str | None, demo_video: bool, stdout=sys.stdout) -> int:  # noqa: ANN001
    """Foreground: nginx, the monitor and optionally the demo publisher, until SIGTERM/SIGINT."""
    missing = media.missing_programs()
    if missing:
        stdout.write(f"video: missing {', '.join(missing)}; install with: sudo apt-get install {media.DEBIAN_PACKAGES}\n")
        return 1
    try:
        nginx = media.start_nginx(callback_base_url=platform_url)
    except RuntimeError as exc:
        stdout.write(f"video: the media server did not start: {exc}\n")
        return 1
    s = video_settings()
    stdout.write(f"video: RTMP ingest rtmp://{s.rtmp_listen}:{s.rtmp_port}/{s.ingest_app}, "
                 f"HLS {s.hls_base_url}/<stream id>.m3u8\n")
    stdout.flush()
    services.media_server_restarted()
    monitor = Monitor()
    monitor.start_thread()
    demo = None
    stopping = threading.Event()

    def on_signal(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if demo_video:
        demo = start_demo_publisher(stdout=stdout)
    try:
        while not stopping.is_set():
            if nginx.poll() is not None:
                stdout.write("video: nginx exited\n")
                return 1
            stopping.wait(1.0)
    finally:
        monitor.stop()
        if demo is not None:
            demo.stop()
        media.stop_process(nginx, graceful=signal.SIGQUIT, timeout=5)
    return 0
