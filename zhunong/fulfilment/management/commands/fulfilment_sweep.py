"""`zhunong fulfilment-sweep`: run the time-driven fulfilment work now."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from zhunong.fulfilment import selectors
from zhunong.fulfilment.services.sweep import sweep


class Command(BaseCommand):
    help = (
        "Run the time-driven fulfilment work that the Huey worker otherwise does every 10 minutes: route "
        "paid orders that have no parcels yet, cancel unsent parcels of cancelled/refunded orders, flag "
        "parcels not shipped within FULFILMENT_SHIP_WITHIN_HOURS of payment as late (this counts toward the "
        "producer's record the county operator sees), mark orders shipped whose parcels have all left, "
        "auto-confirm parcels shipped FULFILMENT_AUTO_CONFIRM_DAYS ago, and complete orders delivered "
        "FULFILMENT_AUTO_COMPLETE_DAYS ago with no open after-sales request. Use it when no worker runs "
        "(cron, a demo) or to catch up after an outage; --dry-run shows what would change and changes nothing."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
        parser.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        now = timezone.now()
        if options["dry_run"]:
            result = {
                "dry_run": True,
                "to_route": list(selectors.orders_to_route().values_list("pk", flat=True)),
                "to_cancel": list(selectors.orphaned_shipments().values_list("pk", flat=True)),
                "to_flag_late": list(selectors.overdue_unflagged(now).values_list("pk", flat=True)),
                "orders_to_sync": list(selectors.orders_out_of_step().values_list("pk", flat=True)),
                "to_auto_confirm": list(selectors.due_for_auto_confirm(now).values_list("pk", flat=True)),
                "orders_to_complete": list(selectors.due_for_completion(now).values_list("pk", flat=True)),
            }
        else:
            result = sweep(now=now).as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        for key, value in result.items():
            self.stdout.write(f"{key}: {value}")
        if result.get("errors"):
            self.stderr.write("some steps failed; see the log")
