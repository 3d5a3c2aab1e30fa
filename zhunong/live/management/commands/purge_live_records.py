"""`zhunong purge_live_records`: delete live-room records past their retention period."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zhunong.core.errors import DomainError
from zhunong.live import streams


class Command(BaseCommand):
    help = (
        "Delete the room records (chat, pins, announcements, mutes and bans, moderation log, reports, viewers, "
        "minute series, gifts) of streams that ended more than RECORD_RETENTION_DAYS days ago "
        f"(now {settings.RECORD_RETENTION_DAYS}). Live-stream records must be kept for at least 3 years under "
        "China's online-trade rules, so they can be audited; after that they are personal data with no purpose. "
        f"Less than {streams.MIN_RETENTION_DAYS} days is refused, and a stream an open complaint, after-sales "
        "request or pledge claim is about keeps its record until the case is closed. "
        "A stream's record goes as a whole; the stream and its state history stay. The Huey worker runs this "
        "daily; run it by hand with --dry-run to see what would go."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
        parser.add_argument("--days", type=int, default=None,
                            help=f"retention in days, at least {streams.MIN_RETENTION_DAYS} "
                                 "(default: the RECORD_RETENTION_DAYS setting)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        try:
            counts = streams.purge_records(days=options["days"], dry_run=options["dry_run"])
        except DomainError as exc:
            raise CommandError(str(exc.message))
        verb = "Would delete" if options["dry_run"] else "Deleted"
        detail = ", ".join(f"{n} {name}" for name, n in counts.items() if name != "streams")
        self.stdout.write(f"{verb} the records of {counts['streams']} stream(s): {detail}.")
