"""Precision and recall of flags against a scenario's labels (`zhunong simulate --evaluate`, docs)."""

from __future__ import annotations

from collections import defaultdict

from .common import ABUSES

KINDS = ("order", "session", "account")


def flagged_items(flags: list[dict]) -> dict[str, set[tuple[str, str]]]:
    items: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in flags:
        for kind in KINDS:
            items[f["abuse"]].update((kind, i) for i in f[f"{kind}_ids"])
    return items


def evaluate(flags: list[dict], labels: list[dict], *, totals: dict[str, int]) -> dict:
    """Per abuse: precision and recall over the labelled orders, sessions and accounts; and the share of
    unlabelled (honest) orders and sessions flagged as anything. `totals`: orders and sessions in the log."""
    truth: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for label in labels:
        kind = next(k for k in KINDS if f"{k}_id" in label)
        truth[label["abuse"]].add((kind, label[f"{kind}_id"]))
    found = flagged_items(flags)
    result: dict = {}
    for abuse in ABUSES:
        t, f = truth.get(abuse, set()), found.get(abuse, set())
        hit = len(t & f)
        result[abuse] = {"labelled": len(t), "flagged": len(f), "correct": hit,
                         "precision": round(hit / len(f), 3) if f else None,
                         "recall": round(hit / len(t), 3) if t else None}
    abusive = set().union(*truth.values()) if truth else set()
    flagged_any = set().union(*found.values()) if found else set()
    for kind in ("order", "session"):
        honest_total = totals[kind] - sum(1 for k, _ in abusive if k == kind)
        false = sum(1 for k, i in flagged_any - abusive if k == kind)
        result[f"honest_{kind}s_flagged"] = {"count": false, "of": honest_total,
                                             "share": round(false / honest_total, 5) if honest_total else None}
    return result
