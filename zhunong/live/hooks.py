"""Where apps above live tell it which streams' records must be kept; live cannot import them.

Retention (`streams.purge_records`, and video's purge of recordings and replays) never deletes the record
of a stream that a case still open is about: fulfilment hands over its question in `FulfilmentConfig.ready`
(complaints, after-sales requests and pledge claims not closed yet, about an order placed in the stream).
Without a provider (fulfilment not installed) there are no cases, and nothing is held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

HeldStreams = Callable[[list[int]], Iterable[int]]

_providers: dict[str, HeldStreams] = {}


def provide_held_streams(name: str, provider: HeldStreams) -> None:
    """`provider(stream_ids)` answers which of these streams an open case is about (called again on reload)."""
    _providers[name] = provider


def held_streams(stream_ids: Iterable[int]) -> set[int]:
    """Which of `stream_ids` must keep their records now."""
    ids = list(stream_ids)
    held: set[int] = set()
    if not ids:
        return held
    for provider in _providers.values():
        held.update(provider(ids))
    return held


# --- a host's sales, refunds and complaints (the host record page); orders and fulfilment sit above live ---

HostFigures = Callable[[list[int]], dict]

_figures: dict[str, HostFigures] = {}


def provide_host_figures(name: str, provider: HostFigures) -> None:
    """`provider(stream_ids)` answers {"orders": int, "sales": Decimal, "refunded": Decimal, "complaints": int}
    for the orders placed in those streams (fulfilment provides it in `FulfilmentConfig.ready`)."""
    _figures[name] = provider


def host_figures(stream_ids: Iterable[int]) -> dict | None:
    """The figures of the orders placed in `stream_ids`, or None when no app provides them."""
    if not _figures:
        return None
    ids = list(stream_ids)
    total: dict = {}
    for provider in _figures.values():
        for key, value in provider(ids).items():
            total[key] = total.get(key, 0) + value
    return total
