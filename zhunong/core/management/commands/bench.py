"""`zhunong bench <name>`: benchmarks that start real servers and drive them over loopback.

Each benchmark lives in its app (`zhunong.<app>.bench`), which provides `add_arguments(parser)` and
`run(options, stdout) -> dict`; the result is printed as one JSON object with --json.
"""

from __future__ import annotations

import json
from importlib import import_module

from django.core.management.base import BaseCommand, CommandError

BENCHMARKS = {
    "room": ("zhunong.live.bench", "viewers, chat and pins in one live room"),
    "flash-sale": ("zhunong.orders.bench", "purchase attempts against a flash sale, with a naive baseline"),
    "video": ("zhunong.video.bench", "glass-to-glass latency of the HLS pipeline"),
}


class Command(BaseCommand):
    help = (
        "Run a benchmark against real server processes on loopback and print its result. Speed and "
        "memory targets live here, not in timed tests; record results in docs/benchmarks.md with the "
        "machine and the command. Benchmarks: " + "; ".join(f"{k}: {v[1]}" for k, v in BENCHMARKS.items())
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="benchmark", required=True)
        for name, (module_name, description) in BENCHMARKS.items():
            p = sub.add_parser(name, help=description)
            p.add_argument("--json", action="store_true", help="print one JSON object")
            try:
                module = import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.add_arguments(p)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        name = options["benchmark"]
        module_name = BENCHMARKS[name][0]
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise CommandError(f"benchmark {name!r} is not available")
        result = module.run(options, self.stdout)
        if options.get("json"):
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
