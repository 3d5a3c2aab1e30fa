"""FRAUDAR's greedy peeling (Hooi, Song, Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding Graph Fraud in
the Face of Camouflage", KDD 2016), written from the paper with numpy/scipy.

The graph is bipartite (here: accounts x stream-product cells, an edge per order). The density of a node
set S is g(S) = f(S) / |S|, where f(S) sums the weights of the edges inside S. Edge weights are the
paper's column weighting, c_j = 1 / log(d_j + 5) for a column of degree d_j: a popular cell (every honest
buyer of a best seller) counts for little, so fraudsters cannot hide by also buying popular things
("camouflage"), and a dense block of rarely-bought cells stands out.

Peeling removes, one at a time, the node whose removal costs f the least (its weighted degree in what is
left), keeping a priority queue keyed by that cost; the densest prefix seen is the answer. The paper shows
g of the answer is at least half the optimum (Theorem 1) and that the procedure runs in O(|E| log |V|).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Block:
    rows: np.ndarray  # row indices of the densest block found
    cols: np.ndarray
    density: float  # g(S) = f(S) / |S|


def column_weights(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Weight every edge by its column's 1 / log(degree + 5) (the paper's column weighting)."""
    degrees = np.asarray((matrix != 0).sum(axis=0)).ravel()
    weights = 1.0 / np.log(degrees + 5.0)
    weighted = (matrix != 0).astype(np.float64).tocsr()
    return (weighted @ sp.diags(weights)).tocsr()


def peel(weighted: sp.csr_matrix) -> Block:
    """Greedy peeling of a weighted bipartite adjacency matrix (rows x cols); the densest prefix."""
    n_rows, n_cols = weighted.shape
    csr = weighted.tocsr()
    csc = weighted.tocsc()
    row_cost = np.asarray(csr.sum(axis=1)).ravel()
    col_cost = np.asarray(csc.sum(axis=0)).ravel()
    # Nodes: rows are 0..n_rows-1, columns n_rows..n_rows+n_cols-1.
    cost = np.concatenate([row_cost, col_cost])
    alive = np.ones(n_rows + n_cols, dtype=bool)
    heap = [(float(c), i) for i, c in enumerate(cost)]
    heapq.heapify(heap)
    total = float(csr.sum())
    size = n_rows + n_cols
    best_density = total / size if size else 0.0
    best_removed = 0
    order: list[int] = []
    indptr_r, indices_r, data_r = csr.indptr, csr.indices, csr.data
    indptr_c, indices_c, data_c = csc.indptr, csc.indices, csc.data
    while heap and size > 1:
        c, node = heapq.heappop(heap)
        if not alive[node] or c != cost[node]:
            continue  # a stale entry: the node's cost fell since it was queued
        alive[node] = False
        order.append(node)
        total -= cost[node]
        size -= 1
        if node < n_rows:
            for k in range(indptr_r[node], indptr_r[node + 1]):
                other = n_rows + indices_r[k]
                if alive[other]:
                    cost[other] -= data_r[k]
                    heapq.heappush(heap, (float(cost[other]), other))
        else:
            col = node - n_rows
            for k in range(indptr_c[col], indptr_c[col + 1]):
                other = indices_c[k]
                if alive[other]:
                    cost[other] -= data_c[k]
                    heapq.heappush(heap, (float(cost[other]), other))
        density = total / size
        if density > best_density + 1e-12:
            best_density, best_removed = density, len(order)
    removed = set(order[:best_removed])
    keep = np.array([i for i in range(n_rows + n_cols) if i not in removed], dtype=np.int64)
    return Block(rows=keep[keep < n_rows], cols=keep[keep >= n_rows] - n_rows, density=best_density)


def dense_blocks(matrix: sp.csr_matrix, *, blocks: int = 3, min_rows: int = 3) -> list[Block]:
    """Up to `blocks` dense blocks: peel, take the block's edges out, peel again (the paper's way of
    finding several)."""
    coo = column_weights(matrix).tocoo()
    rows, cols, data = coo.row, coo.col, coo.data
    found: list[Block] = []
    for _ in range(blocks):
        if len(data) == 0:
            break
        block = peel(sp.csr_matrix((data, (rows, cols)), shape=matrix.shape))
        if len(block.rows) < min_rows or len(block.cols) == 0:
            break
        found.append(block)
        inside = np.isin(rows, block.rows) & np.isin(cols, block.cols)
        rows, cols, data = rows[~inside], cols[~inside], data[~inside]
    return found
