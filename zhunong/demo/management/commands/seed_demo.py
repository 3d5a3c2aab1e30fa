"""`zhunong seed-demo`: load the demo counties (zhunong.demo.world), then streams, videos, orders and parcels."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from zhunong.demo import casework, forecasts, fulfilment, income, live, orders, video
from zhunong.demo import world as demo

# Demo data on top of the counties, in this order: streams, their stream keys, orders, then the orders'
# parcels and reviews, then the data centre's sales history, chat and forecasts, then the co-op's members and
# the orders that reach them (income, last: it rebuilds the rollups); each is called with
# `seed(stdout=..., dry_run=...)`.
SEEDERS = [live, video, orders, fulfilment, forecasts, income, casework]


class _DryRun(Exception):
    """Raised to roll the whole run back after reporting what it would have created."""


class Command(BaseCommand):
    help = (
        "Load a believable demo world so the platform can be tried at once: nine counties from the news "
        "reports in shared/seeds (Anhua dark tea, Jiaozhou blueberries, Henan county yak, Fengcheng selenium "
        "rice, Aohan millet, Zhenping koi, Jingyu mountain goods, Wangqing kimchi and rice, Zhashui wood-ear), "
        "with producers, plots, batches, inspections (one failed, so its product stays unlisted), processing "
        "and packing trace events, county channels, hosts by role and demo logins (password "
        f"'{demo.PASSWORD}'). Everything goes through the platform's services, so the data obeys its rules. "
        "It is idempotent: `make demo` runs it every time and a second run changes nothing. Use --dry-run "
        "to see what it would create without writing anything."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true",
                            help="report what would be created, then roll everything back")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        dry_run = options["dry_run"]
        try:
            with transaction.atomic():
                result = demo.seed()
                self._report(result, dry_run=dry_run)
                for seeder in SEEDERS:
                    seeder.seed(stdout=self.stdout, dry_run=dry_run)
                if dry_run:
                    raise _DryRun()
        except _DryRun:
            self.stdout.write("Dry run: nothing was written.")
            return
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.PASSWORD}):")
        for username, what in result.logins:
            self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write("  Other counties: operator-<county>, inspector-<county>, host-<county>-… "
                          "(e.g. operator-jiaozhou); see the admin's user list.")

    def _report(self, result: demo.SeedResult, *, dry_run: bool) -> None:
        if not result.changed:
            self.stdout.write("Demo data already present: nothing changed.")
            return
        verb = "Would create" if dry_run else "Created"
        parts = ", ".join(f"{n} {what}" for what, n in result.created.items())
        self.stdout.write(self.style.SUCCESS(f"{verb}: {parts}."))
