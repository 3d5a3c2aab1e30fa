"""`zhunong serve`: the whole embedded platform in one command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run the ASGI server (HTTP + websockets) together with the background worker (Huey), so the "
        "embedded setup needs one command. For several processes against PostgreSQL and Redis, run "
        "`uvicorn zhunong.asgi:application` and `zhunong run_huey` yourself (docs/deploy.md)."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="ASGI worker processes (needs REDIS_URL if > 1)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the Huey worker")
        parser.add_argument("--no-media", action="store_true", help="do not start the media server")
        parser.add_argument("--demo-video", action="store_true",
                            help="push a synthetic test stream into the demo live room (needs nginx-rtmp + ffmpeg)")

    def handle(self, *args, **opts) -> None:  # noqa: ANN002, ANN003
        from django.conf import settings

        if opts["workers"] > 1 and not settings.REDIS_URL:
            raise CommandError("--workers > 1 needs REDIS_URL: processes share rooms through Redis.")
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port must be 1-65535.")
        children: list[subprocess.Popen] = []
        env = dict(os.environ)
        if not opts["no_worker"]:
            children.append(subprocess.Popen([sys.executable, "-m", "zhunong.cli", "run_huey"], env=env))
        if not opts["no_media"]:
            media = _media_process(platform_url=f"http://{opts['host']}:{opts['port']}", demo_video=opts["demo_video"])
            if media is not None:
                children.append(media)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "zhunong.asgi:application", "--host", opts["host"], "--port",
             str(opts["port"]), "--workers", str(opts["workers"]), "--lifespan", "off", "--no-access-log",
             # The room hub encodes each batch once for thousands of sockets; per-message deflate would
             # compress it again per connection (docs/benchmarks.md, live room).
             "--ws-per-message-deflate", "false"],
            env=env,
        )
        children.append(server)
        self.stdout.write(f"zhunong serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C stops)")

        def stop() -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

        def on_signal(*_: object) -> None:
            raise _Stop()

        # The handler only raises; the main loop polls instead of blocking in Popen.wait(), because a
        # handler that waits on a child while the main thread is inside wait() deadlocks on Popen's lock.
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            while server.poll() is None:
                time.sleep(0.5)
        except (_Stop, KeyboardInterrupt):
            pass
        finally:
            stop()


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _media_process(*, platform_url: str, demo_video: bool) -> subprocess.Popen | None:
    """The media server (nginx-rtmp), when the live-video app provides one and it is installed."""
    try:
        from zhunong.video.media import start_media_server
    except ImportError:
        return None
    # nginx-rtmp calls the platform back over plain HTTP on the address it serves.
    return start_media_server(platform_url=platform_url, demo_video=demo_video)
