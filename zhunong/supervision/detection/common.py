"""What every detector shares: the flag's shape and how a p-value becomes a score."""

from __future__ import annotations

import math
from typing import Any

ABUSES = ("quota", "fake_order", "inflated_traffic", "below_cost")


def score_from_p(p: float, *, full_at: float = 12.0) -> float:
    """0..1 from a p-value: -log10(p) / 12, capped (1e-6 -> 0.5, 1e-12 or less -> 1.0)."""
    if p <= 0:
        return 1.0
    return round(min(1.0, max(0.0, -math.log10(p) / full_at)), 3)


def flag(*, abuse: str, detector: str, score: float, stream_id: str | None = None, order_ids=(),  # noqa: ANN001
         session_ids=(), account_ids=(), evidence: dict[str, Any]) -> dict[str, Any]:
    if abuse not in ABUSES:
        raise ValueError(f"unknown abuse {abuse!r}")
    return {
        "abuse": abuse,
        "order_ids": sorted(set(order_ids)),
        "session_ids": sorted(set(session_ids)),
        "account_ids": sorted(set(a for a in account_ids if a is not None)),
        "score": round(float(min(1.0, max(0.0, score))), 3),
        "evidence": {"detector": detector, "stream_id": stream_id, **evidence},
    }
