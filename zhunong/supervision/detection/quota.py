"""Quotas and forced purchases (摊派): staff told to spend at least a threshold in an official's stream.

What a quota cannot avoid: its buyers aim at a threshold, so their baskets are *minimal* above it (at
least T, and no longer at least T without their cheapest unit), and they are recruited for the occasion
or organised by a unit, so their accounts are new (created in the days before the stream) or share a
delivery address (the workplace), a device or a payment account with other buyers of the stream.

Per stream, for every round threshold T (1, 2, 3, 5, 8 x 10^k yuan), a one-sided Fisher exact test asks
whether orders with minimal baskets above T are more often from new or linked accounts than the stream's
other orders; the most significant T is kept. Honest newcomers and households are as likely to buy any
basket, so without a quota the test has nothing to find. Orders in the band with a marker are flagged;
buyers who never watched the stream before ordering are counted in the evidence.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.stats import fisher_exact

from zhunong.supervision.eventlog import EventLog, Order

from .common import flag, score_from_p
from .fake_orders import stream_ends, undone_soon

DETECTOR = "quota.threshold_bunching"
NEW_ACCOUNT_DAYS = 14.0  # an account created this many days before the stream, or later, counts as new
LINKED_ACCOUNTS = 3  # a delivery address, device or payment account shared by this many buyers of a stream
P_MAX = 1e-6
MIN_ORDERS = 5
THRESHOLDS = sorted({m * 10 ** k for k in range(1, 4) for m in (1, 2, 3, 5, 8)} | {10000})


def _shared(orders: list[Order], key) -> set[str]:  # noqa: ANN001
    owners: dict[str, set[str]] = defaultdict(set)
    for o in orders:
        value = key(o)
        if value:
            owners[value].add(o.account_id)
    return {v for v, accs in owners.items() if len(accs) >= LINKED_ACCOUNTS}


def detect(log: EventLog) -> list[dict]:
    by_stream: dict[str, list[Order]] = defaultdict(list)
    ends = stream_ends(log)
    for order in log.orders.values():
        # A quota is a purchase that stands: orders undone soon after the stream are fake_orders' business.
        if order.stream_id is not None and not undone_soon(order, ends[order.stream_id]):
            by_stream[order.stream_id].append(order)
    watched: dict[tuple[str, str], float] = {}
    for s in log.sessions.values():
        if s.account_id is not None:
            key = (s.stream_id, s.account_id)
            watched[key] = min(watched.get(key, s.joined), s.joined)
    accounts = log.accounts
    flags = []
    for stream_id, orders in by_stream.items():
        if len(orders) < 2 * MIN_ORDERS:
            continue
        stream = log.streams[stream_id]
        ship = _shared(orders, lambda o: o.ship_to_hash)
        dev = _shared(orders, lambda o: accounts[o.account_id].device_hash)
        pay = _shared(orders, lambda o: o.payment_hash or accounts[o.account_id].payment_hash)
        new = np.array([(accounts[o.account_id].created_at or -np.inf) >= stream.start - NEW_ACCOUNT_DAYS * 86400
                        for o in orders])
        linked = np.array([o.ship_to_hash in ship or accounts[o.account_id].device_hash in dev
                           or (o.payment_hash or accounts[o.account_id].payment_hash) in pay for o in orders])
        marker = new | linked
        if marker.sum() < MIN_ORDERS:
            continue
        amount = np.array([o.amount for o in orders])
        subtotal = np.array([sum(i.unit_price * i.quantity for i in o.items) for o in orders])
        share = np.where(subtotal > 0, amount / np.maximum(subtotal, 1e-9), 1.0)
        cheapest = np.array([min(i.unit_price for i in o.items) for o in orders]) * share
        best = None
        for t in THRESHOLDS:
            band = (amount >= t) & (amount - cheapest < t) & (amount < 2 * t)
            a = int((band & marker).sum())
            if a < MIN_ORDERS:
                continue
            table = [[a, int((band & ~marker).sum())], [int((~band & marker).sum()), int((~band & ~marker).sum())]]
            p = fisher_exact(table, alternative="greater")[1]
            if best is None or p < best[0]:
                best = (p, t, band, table)
        if best is None or best[0] > P_MAX:
            continue
        p, t, band, table = best
        hit = [o for o, b, m in zip(orders, band, marker, strict=True) if b and m]
        never_watched = [o.id for o in hit if watched.get((stream_id, o.account_id), np.inf) > o.ts]
        flags.append(flag(
            abuse="quota", detector=DETECTOR, score=score_from_p(p), stream_id=stream_id,
            order_ids=[o.id for o in hit], account_ids=[o.account_id for o in hit],
            evidence={
                "why": f"orders just above {t} yuan come from new or linked accounts far more than the "
                       "stream's other orders",
                "threshold": t, "p_value": float(p), "table": {"band_marked": table[0][0],
                                                               "band_unmarked": table[0][1],
                                                               "other_marked": table[1][0],
                                                               "other_unmarked": table[1][1]},
                "host_official": stream.official,
                "new_accounts": int(sum(1 for o, b, n in zip(orders, band, new, strict=True) if b and n)),
                "shared_delivery_addresses": sorted(ship)[:20], "shared_devices": sorted(dev)[:20],
                "shared_payment_accounts": sorted(pay)[:20],
                "bought_without_watching": len(never_watched),
                "amounts": sorted(round(o.amount, 2) for o in hit)[:200],
            }))
    return flags
