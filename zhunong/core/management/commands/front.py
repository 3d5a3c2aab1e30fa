"""`zhunong front ...`: the HTTP front (nginx with a one-second page cache) as the platform generates it."""

from __future__ import annotations

import contextlib
import signal
import sys

from django.core.management.base import BaseCommand, CommandError

from zhunong.core import front


class Command(BaseCommand):
    help = (
        "The HTTP front: nginx serving static files, caching the pages the app marks public for about a second, "
        "and passing everything else (websockets too) to the app servers. Subcommands: config (write "
        "var/front/nginx.conf from the ZHUNONG_FRONT_* settings, check it with nginx -t and print its path), "
        "run (write it and run nginx in the foreground). docs/deploy.md \"The front\"."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("config", help="write the nginx configuration and print its path (last line)")
        sub.add_parser("run", help="run nginx with the generated configuration in the foreground")

    def handle(self, *args, **opts) -> None:  # noqa: ANN002, ANN003
        try:
            s = front.front_settings()
        except ValueError as exc:
            raise CommandError(str(exc))
        if opts["action"] == "config":
            path = front.write_config(s)
            if front.nginx_installed(s):
                ok, message = front.check_config(path, s)
                if not ok:
                    raise CommandError(f"nginx rejects the generated configuration: {message}")
            else:
                self.stdout.write("nginx is not installed; the file was written but not checked")
            self.stdout.write(str(path))
            return
        if not front.nginx_installed(s):
            raise CommandError("nginx is not installed (Debian: apt-get install nginx)")
        try:
            proc = front.start(s)
        except RuntimeError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"front on http://{s.listen}:{s.port}/ -> {', '.join(s.upstreams)}")
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        if proc.returncode not in (0, -signal.SIGTERM, None):
            sys.exit(proc.returncode)
