"""`zhunong bench <name>`: benchmarks that start real servers and drive them over loopback.

Each benchmark is a module of zhunong.bench (room, flash_sale, video, filtering), which provides `add_arguments(parser)` and
`run(options, stdout) -> dict`; the result is printed as one JSON object with --json.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from zhunong.bench import dashboards, filtering, flash_sale, forecast, pages, room, supervise, video

BENCHMARKS = {
    "room": (room, "viewers, chat and pins in one live room"),
    "flash-sale": (flash_sale, "purchase attempts against a flash sale, with a naive baseline"),
    "video": (video, "glass-to-glass latency of the HLS pipeline"),
    "filtering": (filtering, "the room's sensitive-word filter: pyahocorasick against the hand-written automaton"),
    "dashboards": (dashboards, "every data-centre page over 10 million order lines (bulk-generated), rollups vs raw"),
    "forecast": (forecast, "daily demand forecasts (statsforecast) of 1,000 product series with backtests"),
    "pages": (pages, "home, product, room, search and /api/v1/products through the nginx front, directly, and as "
                     "static files (wrk)"),
    "supervise": (supervise, "the integrity scan (zhunong supervise scan) of 100,000 orders and 1,000,000 session events"),
}


class Command(BaseCommand):
    help = (
        "Run a benchmark against real server processes on loopback and print its result. Speed and "
        "memory targets live here, not in timed tests; record results in docs/benchmarks.md with the "
        "machine and the command. Benchmarks: " + "; ".join(f"{k}: {v[1]}" for k, v in BENCHMARKS.items())
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="benchmark", required=True)
        for name, (module, description) in BENCHMARKS.items():
            p = sub.add_parser(name, help=description)
            p.add_argument("--json", action="store_true", help="print one JSON object")
            module.add_arguments(p)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        module = BENCHMARKS[options["benchmark"]][0]
        result = module.run(options, self.stdout)
        if options.get("json"):
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
