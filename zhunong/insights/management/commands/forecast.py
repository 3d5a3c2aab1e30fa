"""`zhunong forecast`: daily demand forecasts of every product, with backtests, from the shell."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from zhunong.insights import forecasting, warnings
from zhunong.insights.progress import ProgressBar
from zhunong.producers.models import Region


class Command(BaseCommand):
    help = (
        "Forecast each product's daily demand (statsforecast: AutoETS, or Croston/TSB for intermittent sales) "
        "for the next 28 days, backtest it against seasonal naive, and store it: the data centre's product "
        "pages, unsold-produce warnings and season plans read these forecasts. The same job runs from the "
        "data centre's forecast page (in Huey). Prints the backtest summary and the warnings it leads to."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--county", help="region code of one county (default: every product)")
        parser.add_argument("--horizon", type=int, default=forecasting.HORIZON, help="days to forecast (7-90)")
        parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
        parser.add_argument("--dry-run", action="store_true", help="forecast and backtest, store nothing")
        parser.add_argument("--table", action="store_true", help="also print the per-product backtest table")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if not 7 <= options["horizon"] <= 90:
            raise CommandError("--horizon must be between 7 and 90 days")
        county = None
        if options["county"]:
            county = Region.objects.filter(code=options["county"], level=Region.Level.COUNTY).first()
            if county is None:
                raise CommandError(f"no county with code {options['county']}")
        summary = forecasting.run_forecasts(county=county, horizon=options["horizon"], workers=options["workers"],
                                            progress=ProgressBar("forecasting"), store=not options["dry_run"])
        summary["dry_run"] = options["dry_run"]
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        if options["table"] and not options["dry_run"]:
            for row in forecasting.backtest_table(county=county):
                self.stdout.write(json.dumps(row, ensure_ascii=False))
        if not options["dry_run"]:
            found = warnings.batch_warnings(county=county)
            self.stdout.write(f"{len(found)} unsold-produce warning(s)")
            for w in found:
                names = "、".join(p.name for p in w.products)
                self.stdout.write(f"  [{w.severity}] {names} batch {w.batch.lot_number or w.batch.pk}: stock {w.stock} "
                                  f"{w.unit}, demand {w.demand} before {w.expires_on}, unsold {w.unsold}")
