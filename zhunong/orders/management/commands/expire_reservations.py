from __future__ import annotations

from django.core.management.base import BaseCommand

from zhunong.orders.services import expire_reservations


class Command(BaseCommand):
    help = (
        "Cancel orders that were not paid before their deadline (ZHUNONG_RESERVATION_MINUTES) and give their "
        "stock back to the product or flash sale. The Huey worker does this every minute; run it by hand after "
        "the worker was down, or with --dry-run to see how many reservations are overdue."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="only count overdue reservations")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        count = expire_reservations(dry_run=options["dry_run"])
        verb = "would expire" if options["dry_run"] else "expired"
        self.stdout.write(f"{verb} {count} reservation(s)")
