"""`zhunong insights-rebuild`: recompute the sales and income rollups from the payments ledger."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from zhunong.insights import income, rollups


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Recompute the data centre's rollups (sales per day, product, producer and stream; income per household) "
        "from the payments ledger and the imported order lines. They are kept up to date as orders are paid "
        "and refunded; rebuild after a bulk load, after changing a co-op's share scheme retroactively, or when "
        "the log says a payment could not be added. Prints the reconciliation with the ledger afterwards "
        "(difference 0.00 when income figures and ledger agree to the fen). --dry-run rebuilds inside a "
        "transaction that is rolled back: it reports what the rebuild would give and changes nothing."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--since", help="first day to rebuild (YYYY-MM-DD); default: everything")
        parser.add_argument("--dry-run", action="store_true", help="report, then roll everything back")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError("--since: a date as YYYY-MM-DD")
        try:
            with transaction.atomic():
                result = rollups.rebuild(since=since)
                first = since or dt.date(2000, 1, 1)
                check = income.reconcile(start=first, end=timezone.localdate() + dt.timedelta(days=1))
                self.stdout.write(f"rollups: {result}")
                self.stdout.write(f"ledger {check['ledger']} · income {check['income']} · "
                                  f"difference {check['difference']}")
                if options["dry_run"]:
                    raise _DryRun()
        except _DryRun:
            self.stdout.write("Dry run: nothing was written.")
