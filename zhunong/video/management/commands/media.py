"""`zhunong media ...`: the media server (nginx-rtmp + ffmpeg) as the platform runs it."""

from __future__ import annotations

import contextlib
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from zhunong.core.errors import DomainError
from zhunong.video import selectors
from zhunong.video.media import check_config, missing_programs, write_config
from zhunong.video.monitor import Monitor, run_media
from zhunong.video.services import purge
from zhunong.video.tasks import build_replay


class Command(BaseCommand):
    help = (
        "Manage the media server. Hosts publish RTMP to nginx-rtmp; nginx asks the platform whether a key may "
        "publish, relays the stream under its id and writes HLS for viewers; recordings become replays. "
        "Subcommands: config (write var/mediaserver/nginx.conf from the VIDEO_* settings and print its path), "
        "run (nginx + health monitor in the foreground; `zhunong serve` starts this), monitor (only the "
        "health monitor, when nginx runs elsewhere), replays (build pending or failed replays now), purge "
        "(delete recordings and replays past the retention period, 3 years by default)."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        config = sub.add_parser("config", help="write the nginx configuration and print its path (last line)")
        config.add_argument("--platform-url", default=None,
                            help="where nginx reaches the platform for callbacks (plain http), "
                                 "default VIDEO_CALLBACK_BASE_URL")
        config.add_argument("--edge", action="append", default=[], metavar="ADDR",
                            help="an edge server's address allowed to pull RTMP from the live application")
        run = sub.add_parser("run", help="run nginx and the ingest monitor in the foreground")
        run.add_argument("--platform-url", default=None)
        run.add_argument("--demo-video", action="store_true",
                         help="also publish a synthetic test pattern into the demo county's live room")
        monitor = sub.add_parser("monitor", help="only the monitor: health from the stat page, grace expiry")
        monitor.add_argument("--interval", type=float, default=2.0)
        monitor.add_argument("--once", action="store_true", help="one round, print what it did")
        replays = sub.add_parser("replays", help="build pending/failed replays now (ffmpeg)")
        replays.add_argument("--dry-run", action="store_true", help="list them, build nothing")
        purge = sub.add_parser("purge", help="delete what is past the retention period")
        purge.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")

    def handle(self, *args, **opts) -> None:  # noqa: ANN002, ANN003
        action = opts["action"]
        if action == "config":
            path = write_config(callback_base_url=opts["platform_url"], edge_allow=opts["edge"])
            if "nginx" not in missing_programs() and "libnginx-mod-rtmp" not in missing_programs():
                ok, message = check_config(path)
                if not ok:
                    raise CommandError(f"nginx rejects the generated configuration: {message}")
            else:
                self.stdout.write("nginx or its RTMP module is not installed; the file was written but not checked")
            self.stdout.write(str(path))
        elif action == "run":
            code = run_media(platform_url=opts["platform_url"], demo_video=opts["demo_video"], stdout=self.stdout)
            if code:
                sys.exit(code)
        elif action == "monitor":
            monitor = Monitor(interval=opts["interval"])
            if opts["once"]:
                self.stdout.write(json.dumps(monitor.run_once()))
                return
            with contextlib.suppress(KeyboardInterrupt):
                monitor.run_forever()
        elif action == "replays":
            for replay_id in selectors.replays_to_build():
                if opts["dry_run"]:
                    self.stdout.write(f"would build replay {replay_id}")
                    continue
                try:
                    self.stdout.write(f"replay {replay_id}: {build_replay(replay_id)}")
                except Exception as exc:  # report and go on with the next one
                    self.stdout.write(f"replay {replay_id}: failed ({type(exc).__name__}: {exc})")
        elif action == "purge":
            try:
                plan = purge(dry_run=opts["dry_run"])
            except DomainError as exc:  # VIDEO_RETENTION_DAYS under three years
                raise CommandError(str(exc.message))
            verb = "would delete" if opts["dry_run"] else "deleted"
            self.stdout.write(f"{verb}: {len(plan.replays)} replay(s), {len(plan.recordings)} recording(s), "
                              f"{len(plan.orphan_files)} unregistered recording file(s), "
                              f"{len(plan.hls_files)} leftover HLS file(s)")
            if opts["verbosity"] > 1:
                self.stdout.write(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2))
