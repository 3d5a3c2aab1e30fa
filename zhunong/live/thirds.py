"""The three thirds (三个三分之一): a stream's time split between registered-household products (推介建档立卡户
产品), coaching others to sell (带动他人直播) and explaining policy (宣讲政策), a third each.

During a live stream the host or the county's operator marks what the room is doing now (the console's
control, or `POST /api/v1/live/streams/{id}/segments`); a mark ends the previous segment and a mark of
"nothing" ends it without starting another; the stream's end closes the open one (streams.end_stream).
`split` measures a stream (or many) against the thirds: seconds per kind, the share of the marked time and
of the live time, and how far each share is from a third.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import ValidationFailed

from .errors import NotModerator, StreamNotLive
from .models import SegmentKind, Stream, StreamSegment, StreamStatus

KINDS = tuple(SegmentKind.values)
THIRD = 1 / 3
# A share within this many percentage points of a third counts as on target (the thirds are a guideline
# for a whole stream, not a stopwatch).
TOLERANCE = 0.05


@transaction.atomic
def mark_segment(*, actor: User, stream: Stream, kind: str | None) -> StreamSegment | None:
    """From now on the stream is doing `kind` (None: nothing marked). Returns the open segment, if any."""
    stream = Stream.objects.select_for_update().select_related("host", "channel__county").get(pk=stream.pk)
    policy.require(actor, "stream.moderate", stream, error=NotModerator)
    if kind is not None and kind not in KINDS:
        raise ValidationFailed("kind: one of household_products, coaching, policy, or null.",
                               details={"field": "kind"})
    if stream.status != StreamStatus.LIVE:
        raise StreamNotLive()
    now = timezone.now()
    current = StreamSegment.objects.select_for_update().filter(stream=stream, ended_at__isnull=True).first()
    if current is not None and current.kind == kind:
        return current
    if current is not None:
        current.ended_at, current.ended_by = now, actor
        current.save(update_fields=["ended_at", "ended_by"])
    if kind is None:
        return None
    return StreamSegment.objects.create(stream=stream, kind=kind, started_at=now, started_by=actor)


def close_open_segment(stream: Stream, *, at: dt.datetime, actor: User | None) -> None:
    """Called by streams.end_stream inside its transaction."""
    StreamSegment.objects.filter(stream=stream, ended_at__isnull=True).update(
        ended_at=at, ended_by=actor if getattr(actor, "is_authenticated", False) else None)


def current_segment(stream: Stream) -> StreamSegment | None:
    return StreamSegment.objects.filter(stream=stream, ended_at__isnull=True).first()


@dataclass(frozen=True)
class Share:
    kind: str
    label: str
    seconds: int
    of_marked: float  # 0..1
    of_live: float  # 0..1 (0 when the live time is unknown)

    @property
    def gap(self) -> float:
        """Share of the marked time minus a third (positive: more than a third)."""
        return self.of_marked - THIRD

    @property
    def on_target(self) -> bool:
        return abs(self.gap) <= TOLERANCE


@dataclass(frozen=True)
class Split:
    shares: tuple[Share, ...]
    marked_seconds: int
    live_seconds: int

    @property
    def unmarked_seconds(self) -> int:
        return max(self.live_seconds - self.marked_seconds, 0)

    @property
    def balanced(self) -> bool:
        return self.marked_seconds > 0 and all(s.on_target for s in self.shares)


def _seconds(start: dt.datetime, end: dt.datetime) -> int:
    return max(int((end - start).total_seconds()), 0)


def split(segments: Iterable[tuple[str, dt.datetime, dt.datetime | None]], *, live_seconds: int,
          now: dt.datetime | None = None) -> Split:
    """`segments`: (kind, started_at, ended_at or None for one still open, counted up to `now`)."""
    now = now or timezone.now()
    totals = dict.fromkeys(KINDS, 0)
    for kind, start, end in segments:
        totals[kind] += _seconds(start, end or now)
    marked = sum(totals.values())
    labels = dict(SegmentKind.choices)
    shares = tuple(Share(kind=k, label=str(labels[k]), seconds=totals[k],
                         of_marked=totals[k] / marked if marked else 0.0,
                         of_live=totals[k] / live_seconds if live_seconds else 0.0) for k in KINDS)
    return Split(shares=shares, marked_seconds=marked, live_seconds=live_seconds)


def live_seconds(stream: Stream, *, now: dt.datetime | None = None) -> int:
    if stream.started_at is None:
        return 0
    return _seconds(stream.started_at, stream.ended_at or now or timezone.now())


def stream_split(stream: Stream, *, now: dt.datetime | None = None) -> Split:
    rows = StreamSegment.objects.filter(stream=stream).values_list("kind", "started_at", "ended_at")
    return split(rows, live_seconds=live_seconds(stream, now=now), now=now)
