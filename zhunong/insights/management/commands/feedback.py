"""`zhunong feedback classify | evaluate | mine`: comment mining from the shell."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from zhunong.insights.progress import ProgressBar
from zhunong.zh import feedback as classifier


class Command(BaseCommand):
    # A shell filter: no system checks (they import every URLconf) before reading stdin.
    requires_system_checks: list[str] = []
    help = (
        "Comment mining (themes packaging, delivery, quality, freshness, price, service, authenticity, request, "
        "with sentiment -1..1). `classify` reads one comment per line on stdin and writes one JSON line per "
        "comment, so any text can be checked from the shell; `evaluate` measures the classifier on its "
        "labelled set (zhunong/zh/data/feedback_labelled.tsv); `mine` classifies the platform's chat and "
        "reviews not classified yet, which the data centre's pages read."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("classify", help="stdin: one comment per line; stdout: one JSON object per line")
        c.add_argument("--explain", action="store_true", help="add each keyword's theme, polarity and negation")
        e = sub.add_parser("evaluate", help="precision/recall per theme and sentiment accuracy on the labelled set")
        e.add_argument("--split", choices=["heldout", "tune", "all"], default="heldout")
        e.add_argument("--errors", action="store_true", help="also list the comments it got wrong")
        m = sub.add_parser("mine", help="classify stored chat messages and reviews not classified yet")
        m.add_argument("--county", help="region code of one county (default: every county)")
        m.add_argument("--dry-run", action="store_true", help="only count what would be classified")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        getattr(self, f"_{options['action']}")(options)

    def _classify(self, options: dict) -> None:
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            result = classifier.classify(text)
            body = result.as_dict()
            if options["explain"]:
                body["explanation"] = result.explanation
                body["requested"] = result.requested
            self.stdout.write(json.dumps(body, ensure_ascii=False))

    def _evaluate(self, options: dict) -> None:
        rows = classifier.labelled_set()
        if options["split"] != "all":
            rows = [r for r in rows if r.split == options["split"]]
        report = classifier.evaluate(rows)
        errors = report.pop("errors")
        report["split"] = options["split"]
        if options["errors"]:
            report["errors"] = errors
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))

    def _mine(self, options: dict) -> None:
        from zhunong.insights.feedback import mine_comments, pending_count
        from zhunong.producers.models import Region

        county = None
        if options.get("county"):
            county = Region.objects.filter(code=options["county"], level=Region.Level.COUNTY).first()
            if county is None:
                raise CommandError(f"no county with code {options['county']}")
        if options["dry_run"]:
            self.stdout.write(f"{pending_count(county=county)} comments would be classified (dry run)")
            return
        result = mine_comments(county=county, progress=ProgressBar("classifying"))
        self.stdout.write(json.dumps(result, ensure_ascii=False))
