"""Fake orders (刷单, 虚假下单): a small set of accounts orders in stream after stream, and the orders are
cancelled or refunded soon after the stream.

1. The graph: accounts x stream-product cells, an edge when the account ordered that product in that
   stream and the order was undone soon after the stream (cancelled or refunded between the stream's
   end and UNDO_DAYS later).
   FRAUDAR's greedy peeling (fraudar.py) finds the densest blocks, with the paper's column weighting so
   that also undoing orders of best sellers does not hide a ring.
2. Density alone is not abuse, and every member of such a block undid something by construction. What
   a ring does and honest buyers rarely do is undo *again*: a block is flagged when its members' undone
   orders beyond each one's first outnumber chance. Under the null each order is undone independently at
   the normal rate (the median rate over the log's stream-product cells with at least 10 orders; a median,
   so that a few brushed cells do not move it); an account with n orders that undid one undoes
   E[K | K >= 1] - 1 more, K ~ Binomial(n, rate); the block's count is tested against the sum of those
   (one-sided Poisson tail), and at least three accounts must have undone two or more.
3. The accounts that undid two or more are flagged with all their orders in the block's cells (the kept
   ones too: a brushing order that is never refunded is still fake), and so is an account outside the
   block that ordered two or more times in the block's streams and undid one of them in the block's
   cells, or undid two or more there, with its orders there (peeling keeps a ring's core, not its edge;
   an honest buyer does either at about the normal rate, which is small once unpaid orders lapsing
   during the stream are not counted).

The baseline in docs/supervision.md is Shopee's brushing rule (`shopee_rule`): in a stream and clock
hour, orders / unique buyers >= 3.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom, poisson

from zhunong.supervision.eventlog import EventLog, Order

from .common import flag, score_from_p
from .fraudar import dense_blocks

DETECTOR = "fake_order.fraudar_undone"
UNDO_DAYS = 3.0
P_MAX = 1e-6
MIN_CELL_ORDERS = 10
MIN_REPEATERS = 3  # a ring is more than two accounts


def stream_ends(log: EventLog) -> dict[str, float]:
    ends = {}
    last_order: dict[str, float] = defaultdict(float)
    for o in log.orders.values():
        if o.stream_id is not None:
            last_order[o.stream_id] = max(last_order[o.stream_id], o.ts)
    for sid, s in log.streams.items():
        ends[sid] = s.end if s.end is not None else max(s.start, last_order.get(sid, s.start))
    return ends


def undone_soon(order: Order, stream_end: float) -> bool:
    """Cancelled or refunded after the stream ended and within UNDO_DAYS of it. An unpaid order that
    lapses while the stream is on is ordinary; brushing is undone once the stream's figures are shown."""
    undone = order.undone_at
    return undone is not None and stream_end <= undone <= stream_end + UNDO_DAYS * 86400


def detect(log: EventLog) -> list[dict]:
    ends = stream_ends(log)
    orders = [o for o in log.orders.values() if o.stream_id is not None]
    if not orders:
        return []
    undone = np.array([undone_soon(o, ends[o.stream_id]) for o in orders])
    cells: dict[tuple[str, str], int] = {}
    accounts: dict[str, int] = {}
    edge_rows, edge_cols, edge_order = [], [], []
    for idx, o in enumerate(orders):
        r = accounts.setdefault(o.account_id, len(accounts))
        for item in o.items:
            c = cells.setdefault((o.stream_id, item.product_id), len(cells))
            edge_rows.append(r)
            edge_cols.append(c)
            edge_order.append(idx)
    edge_rows_a, edge_cols_a, edge_order_a = np.array(edge_rows), np.array(edge_cols), np.array(edge_order)
    cells_of: list[set[int]] = [set() for _ in orders]
    for c, i in zip(edge_cols, edge_order, strict=True):
        cells_of[i].add(c)
    # The normal rate: median over well-filled cells (each order counted once per cell it touches).
    cell_n = np.bincount(edge_cols_a, minlength=len(cells))
    cell_k = np.bincount(edge_cols_a, weights=undone[edge_order_a].astype(float), minlength=len(cells))
    full = cell_n >= MIN_CELL_ORDERS
    normal = float(np.median(cell_k[full] / cell_n[full])) if full.any() else float(undone.mean())
    normal = max(normal, 0.01)  # never assume undoing is impossible
    # The graph of undone orders: honest cancellations are scattered, a ring's are dense. (On the graph of
    # all orders, a big host's many repeat buyers make a block as dense as a small ring.)
    undone_edge = undone[edge_order_a]
    matrix = sp.csr_matrix((np.ones(int(undone_edge.sum())), (edge_rows_a[undone_edge], edge_cols_a[undone_edge])),
                           shape=(len(accounts), len(cells)))
    matrix.data[:] = 1.0  # an edge, however many orders
    cell_keys = list(cells)
    flags = []
    n_all = np.bincount(np.array([accounts[o.account_id] for o in orders]), minlength=len(accounts))
    k_all = np.bincount(np.array([accounts[o.account_id] for o in orders]), weights=undone.astype(float),
                        minlength=len(accounts))
    # How many more orders an account undoes by chance, given that it undid one (the block was found among
    # undone orders, so every member undid at least one): E[K | K >= 1] - 1, K ~ Binomial(n, normal).
    p_one = 1 - binom.pmf(0, n_all, normal)
    extra_by_chance = np.where(p_one > 0, n_all * normal / np.maximum(p_one, 1e-300) - 1, 0.0)
    for block in dense_blocks(matrix, blocks=3):
        rows, cols = set(block.rows.tolist()), set(block.cols.tolist())
        inside = np.isin(edge_rows_a, list(rows)) & np.isin(edge_cols_a, list(cols))
        block_orders = sorted(set(edge_order_a[inside].tolist()))
        n = len(block_orders)
        k = int(undone[block_orders].sum())
        members = np.array(sorted(rows))
        repeaters = members[k_all[members] >= 2]
        extra = int((k_all[members] - 1).sum())
        expected = float(extra_by_chance[members].sum())
        # Again and again: the members' undone orders beyond their first, against chance (Poisson tail).
        p = float(poisson.sf(extra - 1, max(expected, 1e-9))) if extra else 1.0
        if p > P_MAX or len(repeaters) < MIN_REPEATERS:
            continue
        by_account: dict[str, list[int]] = defaultdict(list)
        for i in block_orders:
            by_account[orders[i].account_id].append(i)
        names = list(accounts)
        flagged_accounts = [names[r] for r in repeaters.tolist()]
        # Peeling keeps the ring's core; members with fewer orders fall off the edge. An account outside
        # the block that undid two or more orders in the block's streams is one of them (an honest buyer
        # doing that is rare: about the normal rate squared).
        block_streams = {cell_keys[c][0] for c in cols}
        outside: dict[str, set[int]] = defaultdict(set)
        member_names = {names[r] for r in rows}
        for i, o in enumerate(orders):
            if o.stream_id in block_streams and o.account_id not in member_names:
                outside[o.account_id].add(i)
        extended = [a for a, idx in outside.items()
                    if int(undone[sorted(idx)].sum()) >= 2
                    or (len(idx) >= 2 and any(undone[i] and cells_of[i] & cols for i in idx))]
        for a in extended:
            by_account[a] = sorted(outside[a])
        flagged_accounts += extended
        flagged_orders = [orders[i].id for a in flagged_accounts for i in by_account[a]]
        streams = sorted({cell_keys[c][0] for c in cols})
        per_account_streams = [len({orders[i].stream_id for i in by_account[a]}) for a in flagged_accounts]
        flags.append(flag(
            abuse="fake_order", detector=DETECTOR, score=score_from_p(p),
            stream_id=streams[0] if len(streams) == 1 else None,
            order_ids=flagged_orders, account_ids=flagged_accounts,
            evidence={
                "why": "a dense block of accounts and stream-products (FRAUDAR) whose orders were cancelled or "
                       "refunded soon after the stream far more often than normal",
                "streams": streams, "cells": [list(cell_keys[c]) for c in sorted(cols)][:50],
                "block_accounts": len(rows), "accounts_beside_block": len(extended), "block_density": round(float(block.density), 4),
                "block_orders": n, "undone_soon": k, "undone_rate": round(k / n, 3) if n else 0.0,
                "accounts_undoing_again": len(repeaters), "undone_again": extra,
                "undone_again_by_chance": round(expected, 3),
                "normal_undone_rate": round(normal, 4), "p_value": p,
                "streams_per_account_median": float(np.median(per_account_streams)) if per_account_streams else 0,
                "undo_window_days": UNDO_DAYS,
            }))
    return _merge(flags)


def _merge(flags: list[dict]) -> list[dict]:
    """A ring split over two blocks (say, its two products) is one finding: flags sharing accounts merge."""
    merged: list[dict] = []
    for f in sorted(flags, key=lambda f: -f["score"]):
        home = next((m for m in merged if set(m["account_ids"]) & set(f["account_ids"])), None)
        if home is None:
            merged.append(f)
            continue
        for key in ("order_ids", "account_ids"):
            home[key] = sorted(set(home[key]) | set(f[key]))
        ev = home["evidence"]
        ev["streams"] = sorted(set(ev["streams"]) | set(f["evidence"]["streams"]))
        ev["cells"] = (ev["cells"] + f["evidence"]["cells"])[:50]
        ev["blocks"] = ev.get("blocks", 1) + 1
        ev["stream_id"] = ev["streams"][0] if len(ev["streams"]) == 1 else None
    return merged


def shopee_rule(log: EventLog, *, ratio: float = 3.0) -> list[dict]:
    """The baseline: per stream and clock hour, orders / unique buyers >= `ratio` flags that hour's orders."""
    hours: dict[tuple[str, int], list[Order]] = defaultdict(list)
    for o in log.orders.values():
        if o.stream_id is not None:
            hours[(o.stream_id, int(o.ts // 3600))].append(o)
    flags = []
    for (sid, _), os in hours.items():
        buyers = {o.account_id for o in os}
        if len(os) / len(buyers) >= ratio:
            flags.append(flag(abuse="fake_order", detector="baseline.shopee_orders_per_buyer", score=0.5,
                              stream_id=sid, order_ids=[o.id for o in os], account_ids=buyers,
                              evidence={"orders": len(os), "buyers": len(buyers)}))
    return flags
