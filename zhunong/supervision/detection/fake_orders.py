"""Fake orders (刷单, 虚假下单): a small set of accounts orders in stream after stream, and the orders are
cancelled or refunded soon after the stream.

1. The graph: accounts x stream-product cells, an edge when the account ordered that product in that
   stream. FRAUDAR's greedy peeling (fraudar.py) finds the densest blocks, with the paper's column
   weighting so that also buying best sellers does not hide a ring.
2. Density alone is not abuse (loyal buyers of one host form blocks too). A block is flagged when its
   orders were undone (cancelled, or refunded, before the stream's end + UNDO_DAYS) at a rate far above
   normal: a one-sided binomial test against the normal rate, which is the median rate over the log's
   stream-product cells with at least 10 orders (a median, so that a few brushed cells do not move it).
3. In a flagged block, the accounts that undid at least one of their block orders are flagged with all
   their block orders (the kept ones too: a brushing order that is never refunded is still fake).

The baseline in docs/supervision.md is Shopee's brushing rule (`shopee_rule`): in a stream and clock
hour, orders / unique buyers >= 3.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom

from zhunong.supervision.eventlog import EventLog, Order

from .common import flag, score_from_p
from .fraudar import dense_blocks

DETECTOR = "fake_order.fraudar_undone"
UNDO_DAYS = 3.0
P_MAX = 1e-6
RATE_FACTOR = 3.0  # the block's undo rate must also be at least this many times the normal rate
MIN_CELL_ORDERS = 10


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
    undone = order.undone_at
    return undone is not None and undone <= stream_end + UNDO_DAYS * 86400


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
    # The normal rate: median over well-filled cells (each order counted once per cell it touches).
    cell_n = np.bincount(edge_cols_a, minlength=len(cells))
    cell_k = np.bincount(edge_cols_a, weights=undone[edge_order_a].astype(float), minlength=len(cells))
    full = cell_n >= MIN_CELL_ORDERS
    normal = float(np.median(cell_k[full] / cell_n[full])) if full.any() else float(undone.mean())
    normal = max(normal, 0.01)  # never assume undoing is impossible
    matrix = sp.csr_matrix((np.ones(len(edge_rows_a)), (edge_rows_a, edge_cols_a)),
                           shape=(len(accounts), len(cells)))
    matrix.data[:] = 1.0  # an edge, however many orders
    cell_keys = list(cells)
    flags = []
    for block in dense_blocks(matrix, blocks=3):
        rows, cols = set(block.rows.tolist()), set(block.cols.tolist())
        inside = np.isin(edge_rows_a, list(rows)) & np.isin(edge_cols_a, list(cols))
        block_orders = sorted(set(edge_order_a[inside].tolist()))
        n = len(block_orders)
        k = int(undone[block_orders].sum())
        if n == 0:
            continue
        p = float(binom.sf(k - 1, n, normal))
        if p > P_MAX or k / n < RATE_FACTOR * normal:
            continue
        by_account: dict[str, list[int]] = defaultdict(list)
        for i in block_orders:
            by_account[orders[i].account_id].append(i)
        flagged_accounts = [a for a, idx in by_account.items() if undone[idx].any()]
        # Peeling keeps the ring's core; members with fewer orders fall off the edge. An account outside
        # the block that undid two or more orders in the block's cells is one of them (an honest buyer
        # doing that is rare: the normal rate squared).
        in_cells = np.isin(edge_cols_a, list(cols)) & ~np.isin(edge_rows_a, list(rows))
        outside: dict[str, set[int]] = defaultdict(set)
        for i in set(edge_order_a[in_cells].tolist()):
            outside[orders[i].account_id].add(i)
        extended = [a for a, idx in outside.items() if int(undone[sorted(idx)].sum()) >= 2]
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
                "block_orders": n, "undone_soon": k, "undone_rate": round(k / n, 3),
                "normal_undone_rate": round(normal, 4), "p_value": p,
                "streams_per_account_median": float(np.median(per_account_streams)) if per_account_streams else 0,
                "undo_window_days": UNDO_DAYS,
            }))
    return flags


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
