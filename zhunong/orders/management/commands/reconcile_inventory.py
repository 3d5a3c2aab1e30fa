from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zhunong.orders.flashsales import settle_sales, sync_sales
from zhunong.orders.inventory import reconcile_redis


class Command(BaseCommand):
    help = (
        "Bring the Redis inventory back into agreement with the database: release reservations Redis holds "
        "but no order ever recorded (a process died mid-purchase), replay releases/commits Redis missed, refresh "
        "the database's copy of sale and coupon stock; then settle finished flash sales (unsold units back to "
        "the product). Runs every minute in the worker; use after a crash or with --dry-run to inspect."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
        parser.add_argument("--grace", type=int, default=120,
                            help="seconds a reservation may stay unrecorded before it counts as orphaned (120)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["grace"] < 0:
            raise CommandError("--grace must be >= 0")
        if settings.REDIS_URL:
            report = reconcile_redis(grace_seconds=options["grace"], dry_run=options["dry_run"])
            self.stdout.write("redis: " + ", ".join(f"{k}={v}" for k, v in report.as_dict().items()))
        else:
            self.stdout.write("redis: not configured (REDIS_URL unset), nothing to reconcile")
        if not options["dry_run"]:
            sync_sales()
        settled = settle_sales(dry_run=options["dry_run"])
        verb = "would return" if options["dry_run"] else "returned"
        for sale_id, units in settled:
            self.stdout.write(f"flash sale {sale_id}: {verb} {units} unsold unit(s) to the product")
        self.stdout.write(f"settled {len(settled)} flash sale(s)")
