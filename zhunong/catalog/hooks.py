"""Where apps above catalog plug into the storefront; catalog cannot import them.

The home page leads with live streams, which belong to live: live hands its two stream queries over in
`LiveConfig.ready`. Without them (live not installed) the section shows that nothing is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

StreamQuery = Callable[[], Sequence[Any]]

_home_streams: dict[str, StreamQuery] = {}


def provide_home_streams(*, live: StreamQuery, upcoming: StreamQuery) -> None:
    """Streams on air now, and scheduled streams soonest first (both newest-relevant first)."""
    _home_streams.update(live=live, upcoming=upcoming)


def home_streams(limit: int) -> list[Any]:
    """Live now first, then what is coming up soonest, at most `limit`."""
    if not _home_streams:
        return []
    streams = list(_home_streams["live"]()[:limit])
    if len(streams) < limit:
        streams += list(_home_streams["upcoming"]()[:limit - len(streams)])
    return streams
