"""`zhunong simulate`: labelled event logs for measuring the integrity detectors."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zhunong.supervision.detection import scan
from zhunong.supervision.detection.evaluate import evaluate
from zhunong.supervision.detection.fake_orders import shopee_rule
from zhunong.supervision.detection.simulate import SCENARIOS, iter_lines, simulate
from zhunong.supervision.eventlog import read_log


def labels_path(out: Path) -> Path:
    """events.jsonl -> events.labels.jsonl (beside it)."""
    name = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(name + ".labels.jsonl")


class Command(BaseCommand):
    requires_system_checks: list = []  # a file in, a file out: the web settings are not its business
    help = (
        "Write a simulated county's livestreams as an event log (docs/supervision.md), with abuse injected "
        "and labelled, so that the detectors' precision and recall are measured rather than asserted. "
        "Audiences arrive and leave, heartbeat, chat, like, click and buy (more at pins and flash sales); "
        "some orders go unpaid, a few are refunded. The labels file beside the log (events.labels.jsonl) "
        "names every abusive order, session and account. Scenarios: "
        + "; ".join(f"{k}: {v}" for k, v in SCENARIOS.items())
        + ". --evaluate also scans the log and prints precision and recall per abuse type, and those of "
        "Shopee's brushing rule (the fake-order baseline)."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--seed", type=int, required=True, help="random seed: the same seed gives the same log")
        parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS), help="what is injected")
        parser.add_argument("--out", required=True, help="the event log to write (.jsonl); labels go beside it")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="audience and account numbers relative to the default (0.05..5; default 1)")
        parser.add_argument("--streams", type=int, default=10, help="streams over the simulated days (4..200)")
        parser.add_argument("--evaluate", action="store_true",
                            help="scan the written log and print precision/recall against the labels (JSON)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if not 0.05 <= options["scale"] <= 5:
            raise CommandError("--scale must be between 0.05 and 5")
        if not 4 <= options["streams"] <= 200:
            raise CommandError("--streams must be between 4 and 200")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent} is not a directory")
        events, labels = simulate(seed=options["seed"], scenario=options["scenario"], scale=options["scale"],
                                  n_streams=options["streams"])
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(iter_lines(events))
        with labels_path(out).open("w", encoding="utf-8") as fh:
            for label in labels:
                fh.write(json.dumps(label, ensure_ascii=False) + "\n")
        self.stderr.write(f"wrote {len(events)} events to {out} and {len(labels)} labels to {labels_path(out)}")
        if options["evaluate"]:
            with out.open(encoding="utf-8") as fh:
                log = read_log(fh)
            totals = {"order": len(log.orders), "session": len(log.sessions)}
            result = evaluate(scan(log), labels, totals=totals)
            # The baseline of docs/supervision.md: Shopee's brushing rule on the same log.
            result["fake_order_shopee_baseline"] = evaluate(shopee_rule(log), labels, totals=totals)["fake_order"]
            self.stdout.write(json.dumps({"seed": options["seed"], "scenario": options["scenario"], **result},
                                         ensure_ascii=False))
