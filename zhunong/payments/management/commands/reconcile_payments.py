from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from zhunong.payments.providers import deliver_due
from zhunong.payments.selectors import open_sessions
from zhunong.payments.services import reconcile_payments


class Command(BaseCommand):
    help = (
        "Ask the payment gateway about checkout sessions we never got a webhook for, apply the payments it "
        "reports (exactly once), and retry refunds that did not go through. The worker runs this every two "
        "minutes; run it by hand after webhooks were lost, or with --dry-run to list the open sessions."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="list open sessions, ask nobody, change nothing")
        parser.add_argument("--older-than", type=int, default=60, help="only sessions older than this many seconds")
        parser.add_argument("--deliver-webhooks", action="store_true",
                            help="also let the sandbox gateway send its due webhooks now")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["older_than"] < 0:
            raise CommandError("--older-than must be >= 0")
        if options["dry_run"]:
            sessions = open_sessions()
            for s in sessions[:200]:
                self.stdout.write(f"open: {s.session_ref} order {s.order.number} ¥{s.amount}")
            self.stdout.write(f"{sessions.count()} open session(s)")
            return
        if options["deliver_webhooks"]:
            self.stdout.write(f"delivered {deliver_due()} webhook(s)")
        report = reconcile_payments(older_than_seconds=options["older_than"])
        self.stdout.write(", ".join(f"{k}={v}" for k, v in report.items()))
