"""`zhunong supervise scan|export|convert-csv`: audit a stream's event log, here or from elsewhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zhunong.supervision.detection import DETECTORS, scan
from zhunong.supervision.detection.csvimport import COLUMNS, OPTIONAL, convert
from zhunong.supervision.eventlog import dumps, read_log


class Command(BaseCommand):
    requires_system_checks: list = []  # a file in, a file out: the web settings are not its business
    help = (
        "Integrity audits of livestreams (docs/supervision.md). Counties also sell on other platforms, so the "
        "detectors read a documented event log rather than this platform's tables. "
        "scan: read an event log, report each bad line (number and reason) on stderr, and write one flag per "
        "line on stdout. export: write one of this platform's streams as such a log. convert-csv: turn a "
        "plain CSV order export into a log. Run `zhunong supervise <subcommand> --help` for each."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("scan", help="scan an event log; flags as JSON lines on stdout, bad lines on stderr",
                           description="Read EVENTS (.jsonl, '-' for stdin) line by line. A bad line (malformed or "
                           "truncated JSON, unknown type, missing field, duplicate id, out of order, a reference to "
                           "something undeclared) is reported on stderr as 'line N: reason' and skipped; the rest "
                           "is scanned. Each flag is one JSON object on stdout: abuse, order_ids, session_ids, "
                           "account_ids, score (0..1) and evidence. Exit status 0 even when lines were bad.")
        p.add_argument("events", help="the event log (.jsonl), or - for stdin")
        p.add_argument("--only", action="append", choices=sorted(DETECTORS), default=[],
                       help="run only this abuse type's detector (repeatable)")
        p.add_argument("--min-score", type=float, default=0.0, help="write only flags with at least this score")
        p = sub.add_parser("export", help="write one of this platform's streams in the event-log format",
                           description="Write stream STREAM (its id) as an event log on stdout or --out: the stream, "
                           "its viewer sessions, displayed viewer counts, chat, orders, payments, cancellations "
                           "and refunds (docs/supervision.md says what the platform records and what it cannot).")
        p.add_argument("stream", type=int, help="the stream's id")
        p.add_argument("--out", help="file to write (default stdout)")
        columns = "; ".join(f"{k}: {v}" for k, v in {**COLUMNS, **OPTIONAL}.items())
        p = sub.add_parser("convert-csv", help="convert a plain CSV order export into the event-log format",
                           description="One CSV row per order line. Required columns: "
                           + ", ".join(COLUMNS) + ". Optional: " + ", ".join(OPTIONAL) + ". Meaning: " + columns
                           + ". Use --map ours=theirs when the export names a column differently. Addresses, "
                           "devices and payment accounts are hashed as read. Bad rows go to stderr.")
        p.add_argument("csv", help="the CSV file (UTF-8, header row), or - for stdin")
        p.add_argument("--out", help="file to write (default stdout)")
        p.add_argument("--map", action="append", default=[], metavar="OURS=THEIRS",
                       help="the export's name for one of our columns (repeatable)")
        p.add_argument("--salt", default="", help="salt for the hashes (use the same one across files to link them)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _open(self, name: str):  # noqa: ANN202
        if name == "-":
            return sys.stdin
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{name}: no such file")
        return path.open(encoding="utf-8", errors="replace", newline="")

    def _scan(self, options: dict) -> None:
        with self._open(options["events"]) as fh:
            log = read_log(fh)
        for number, reason in log.bad_lines:
            self.stderr.write(f"line {number}: {reason}")
        flags = scan(log, only=tuple(options["only"]))
        for f in flags:
            if f["score"] >= options["min_score"]:
                self.stdout.write(json.dumps(f, ensure_ascii=False, default=float))
        self.stderr.write(json.dumps({"summary": log.summary(), "flags": len(flags)}, ensure_ascii=False))

    def _export(self, options: dict) -> None:
        from zhunong.live.models import Stream
        from zhunong.supervision.detection.export import export_stream

        stream = Stream.objects.filter(pk=options["stream"]).first()
        if stream is None:
            raise CommandError(f"stream {options['stream']} does not exist")
        self._write(options.get("out"), export_stream(stream))

    def _convert_csv(self, options: dict) -> None:
        mapping = {}
        for pair in options["map"]:
            ours, _, theirs = pair.partition("=")
            if ours not in COLUMNS and ours not in OPTIONAL or not theirs:
                raise CommandError(f"--map {pair}: expected OURS=THEIRS with one of our column names")
            mapping[ours] = theirs
        with self._open(options["csv"]) as fh:
            result = convert(fh, mapping=mapping, salt=options["salt"])
        for number, reason in result.bad_rows:
            self.stderr.write(f"row {number}: {reason}")
        for note in result.notes:
            self.stderr.write(note)
        if result.bad_rows and result.bad_rows[0][0] == 1 and not result.events:
            raise CommandError(result.bad_rows[0][1])
        self._write(options.get("out"), result.events)

    def _write(self, out: str | None, events: list[dict]) -> None:
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.writelines(dumps(ev) + "\n" for ev in events)
            self.stderr.write(f"wrote {len(events)} events to {out}")
        else:
            for ev in events:
                self.stdout.write(dumps(ev))
