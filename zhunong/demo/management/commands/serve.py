"""`zhunong serve`: the whole embedded platform in one command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zhunong.video.media import start_media_server


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
                            help="push a synthetic test stream into the demo live room (needs nginx-rtmp + ffmpeg); "
                                 "also demo mode (ZHUNONG_DEMO=1) for the server and worker")

    def handle(self, *args, **opts) -> None:  # noqa: ANN002, ANN003
        if opts["workers"] > 1 and not settings.REDIS_URL:
            raise CommandError("--workers > 1 needs REDIS_URL: processes share rooms through Redis.")
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port must be 1-65535.")
        children: list[subprocess.Popen] = []
        base_env = dict(os.environ)
        if opts["demo_video"]:  # a demo: the sandbox payment gateway runs (docs/decisions/0007-payment-provider.md)
            base_env["ZHUNONG_DEMO"] = "1"
        # QR codes, trace links and the sandbox gateway's webhook must point at the port served here.
        base_env["PUBLIC_BASE_URL"] = public_base_url(base_env, host=opts["host"], port=opts["port"])
        env = server_env(base_env)
        if not opts["no_worker"]:
            relay = relay_url(host=opts["host"], port=opts["port"])
            if relay is None and not settings.REDIS_URL:
                self.stderr.write(f"Realtime events of the worker (flash sales starting, …) cannot reach the rooms: "
                                  f"it relays them over loopback, which {opts['host']} is not. Serve on 127.0.0.1 "
                                  f"or 0.0.0.0, or set REDIS_URL.")
            children.append(subprocess.Popen(
                worker_command(),
                env=worker_env(base_env, relay_url=relay, redis_url=settings.REDIS_URL)))
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


def worker_command() -> list[str]:
    return [sys.executable, "-m", "zhunong.cli", "run_huey"]


def relay_url(*, host: str, port: int) -> str | None:
    """Where the worker posts its realtime events: this server's relay endpoint over loopback (the
    endpoint takes nothing else), or None when the server listens on a specific other address."""
    bare = host.strip().strip("[]").lower()
    if bare in ("", "0.0.0.0", "localhost") or bare.startswith("127."):
        return f"http://127.0.0.1:{port}/internal/events/"
    if bare in ("::", "::1"):
        return f"http://[::1]:{port}/internal/events/"
    return None


def public_base_url(environ: Mapping[str, str], *, host: str, port: int) -> str:
    """PUBLIC_BASE_URL when set; else this server's own address (loopback for a wildcard host), so that
    `--port 18800` does not leave links and webhooks on the settings' default :8000."""
    if environ.get("PUBLIC_BASE_URL"):
        return environ["PUBLIC_BASE_URL"].rstrip("/")
    bare = host.strip().strip("[]").lower()
    if bare in ("", "0.0.0.0", "localhost"):
        bare = "127.0.0.1"
    elif bare in ("::", "::1"):
        return f"http://[::1]:{port}"
    elif ":" in bare:
        return f"http://[{bare}]:{port}"
    return f"http://{bare}:{port}"


def server_env(base: Mapping[str, str]) -> dict[str, str]:
    # The web server owns the rooms' layer: it delivers its own events, never posts them to itself.
    env = dict(base)
    env.pop("ZHUNONG_EVENT_RELAY_URL", None)
    return env


def worker_env(base: Mapping[str, str], *, relay_url: str | None, redis_url: str) -> dict[str, str]:
    """The worker's environment. Without Redis its in-memory channel layer reaches no room, so it relays
    its events to the web server (core/relay.py); with Redis all processes share the layer."""
    env = dict(base)
    env.pop("ZHUNONG_EVENT_RELAY_URL", None)
    if relay_url and not redis_url:
        env["ZHUNONG_EVENT_RELAY_URL"] = relay_url
    return env


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _media_process(*, platform_url: str, demo_video: bool) -> subprocess.Popen | None:
    """The media server (nginx-rtmp), when it is installed."""
    # nginx-rtmp calls the platform back over plain HTTP on the address it serves.
    return start_media_server(platform_url=platform_url, demo_video=demo_video)
