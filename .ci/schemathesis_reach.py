"""How far a schemathesis run reached, operation by operation (issue 17: no operation left untested for want
of data).

    python .ci/schemathesis_reach.py <openapi.json> <run.har> [<role>]

Reads the OpenAPI document the run was made against and schemathesis' HAR report (every request and its
answer), maps each request to its operation, and prints one line per role:

    operator: 112 operations called, 104 reached (a 2xx answer), 8 never past 401/403/404, 0 never past 4xx

then, for each operation that never answered 2xx, the statuses it did answer, so the reason can be judged
(the role may not do it, or the run never had an object to do it on). Exit status is always 0: failures are
schemathesis' own exit status; this is a measurement.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from urllib.parse import urlsplit


def _patterns(document: dict) -> list[tuple[str, re.Pattern[str], str]]:
    found = []
    for path, item in document.get("paths", {}).items():
        regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(path)) + "/?$")
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                found.append((method.upper(), regex, operation.get("operationId") or f"{method.upper()} {path}"))
    # Literal segments before templated ones: /orders/mine before /orders/{order_id}.
    found.sort(key=lambda entry: entry[1].pattern.count("[^/]+"))
    return found


def reach(document: dict, har: dict) -> dict[str, Counter]:
    patterns = _patterns(document)
    statuses: dict[str, Counter] = defaultdict(Counter)
    for entry in har.get("log", {}).get("entries", []):
        method = entry["request"]["method"].upper()
        path = urlsplit(entry["request"]["url"]).path
        status = int(entry.get("response", {}).get("status") or 0)
        for op_method, regex, op_id in patterns:
            if op_method == method and regex.match(path):
                statuses[op_id][status] += 1
                break
    return statuses


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        document = json.load(f)
    with open(argv[2], encoding="utf-8") as f:
        har = json.load(f)
    role = argv[3] if len(argv) > 3 else "run"
    statuses = reach(document, har)
    reached = {op for op, seen in statuses.items() if any(200 <= s < 300 for s in seen)}
    gated = {op for op, seen in statuses.items() if op not in reached and set(seen) <= {401, 403, 404}}
    other = set(statuses) - reached - gated
    print(f"{role}: {len(statuses)} operations called, {len(reached)} reached (a 2xx answer), "
          f"{len(gated)} never past 401/403/404, {len(other)} never past 4xx")
    for op in sorted(gated | other):
        seen = ", ".join(f"{s}x{n}" for s, n in sorted(statuses[op].items()))
        print(f"  {role} {'gated' if op in gated else '4xx  '} {op}: {seen}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
