"""Below cost and self-dealing: units sold (after coupons) under their cost floor; buyers of the host's own
organisation among those buyers.

A coupon's discount is shared over the order's lines in proportion to their value (as orders.pricing does),
so a coupon that takes a unit under its cost is caught like a price that does. The cost floor is the
item's `unit_cost`, else the product's latest `product` event; an item without either cannot be judged
and is counted in the evidence as such.
"""

from __future__ import annotations

from collections import defaultdict

from zhunong.supervision.eventlog import EventLog

from .common import flag

DETECTOR = "below_cost.unit_floor"


def detect(log: EventLog) -> list[dict]:
    by_stream: dict[str | None, list] = defaultdict(list)
    unknown_cost = 0
    for order in log.orders.values():
        if order.cancelled_at is not None:
            continue  # a cancelled order sold nothing
        subtotal = sum(i.unit_price * i.quantity for i in order.items)
        share = order.amount / subtotal if subtotal > 0 else 1.0
        below = []
        for item in order.items:
            cost = item.unit_cost if item.unit_cost is not None else log.product_cost.get(item.product_id)
            if cost is None:
                unknown_cost += 1
                continue
            effective = item.unit_price * share
            if effective < cost - 0.005:
                below.append({"product_id": item.product_id, "unit_price": item.unit_price,
                              "effective_unit_price": round(effective, 2), "unit_cost": cost,
                              "quantity": item.quantity})
        if below:
            by_stream[order.stream_id].append((order, below))
    flags = []
    for stream_id, hits in by_stream.items():
        stream = log.streams.get(stream_id) if stream_id else None
        org = stream.host_org if stream else None
        linked = [o.account_id for o, _ in hits
                  if org and log.accounts.get(o.account_id) and log.accounts[o.account_id].org == org]
        gap = sum((b["unit_cost"] - b["effective_unit_price"]) * b["quantity"] for _, bs in hits for b in bs)
        reasoned = sum(1 for o, _ in hits if o.below_cost_reason)
        unexplained = len(hits) - reasoned
        # Sure when unexplained; a recorded reason leaves it for the office to judge (half the score).
        score = 0.6 + 0.2 * (unexplained / len(hits)) + (0.2 if linked else 0.0)
        if unexplained == 0:
            score *= 0.5
        flags.append(flag(
            abuse="below_cost", detector=DETECTOR, score=score, stream_id=stream_id,
            order_ids=[o.id for o, _ in hits], account_ids=linked,
            evidence={
                "why": "units sold under their cost floor" + (
                    "; buyers belong to the host's organisation" if linked else ""),
                "orders_below_cost": len(hits), "with_recorded_reason": reasoned,
                "loss_below_cost": round(gap, 2), "host_official": bool(stream and stream.official),
                "host_org": org, "buyers_in_host_org": len(set(linked)),
                "items_without_cost": unknown_cost,
                "examples": [{"order_id": o.id, **bs[0]} for o, bs in hits[:5]],
            }))
    return flags
