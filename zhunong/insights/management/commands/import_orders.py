"""`zhunong import-orders`: import another platform's order export (CSV or XLSX) into the data centre."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zhunong.core.errors import DomainError
from zhunong.insights.imports import SOURCES, import_orders
from zhunong.producers.models import Region


class Command(BaseCommand):
    help = (
        "Import an order export from another platform (" + ", ".join(f"{k}: {v.label}" for k, v in SOURCES.items())
        + ") so the county's sales there count in the data centre's dashboards, income and forecasts. The file "
        "is checked row by row: if any row is bad, every bad row is printed with its line and reason and nothing "
        "is imported. Importing the same file or the same orders again doubles nothing. Column mappings: "
        "docs/insights.md."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--source", required=True, choices=sorted(SOURCES))
        parser.add_argument("--county", required=True, help="region code of the county whose products were sold")
        parser.add_argument("--dry-run", action="store_true", help="check every row and count, import nothing")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        county = Region.objects.filter(code=options["county"], level=Region.Level.COUNTY).first()
        if county is None:
            raise CommandError(f"no county with code {options['county']}")
        try:
            result = import_orders(user=None, county=county, source=options["source"], filename=path.name,
                                   content=path.read_bytes(), dry_run=options["dry_run"])
        except DomainError as exc:
            for error in exc.details.get("errors", []):
                self.stderr.write(f"line {error['line']}: {error['reason']}")
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
