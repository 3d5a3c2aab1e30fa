"""The three thirds (live/thirds.py): marking segments during a stream, closing them, and measuring the split."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from zhunong.accounts import roles
from zhunong.core.errors import ValidationFailed
from zhunong.live import errors, streams, thirds
from zhunong.live.models import StreamSegment
from zhunong.testing import make_user

T0 = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_split_of_an_even_stream_is_balanced():
    rows = [("household_products", _at(0), _at(20)), ("coaching", _at(20), _at(40)), ("policy", _at(40), _at(60))]
    result = thirds.split(rows, live_seconds=3600, now=_at(90))
    assert [s.seconds for s in result.shares] == [1200, 1200, 1200]
    assert result.balanced and result.unmarked_seconds == 0
    assert all(abs(s.of_marked - 1 / 3) < 1e-9 and abs(s.of_live - 1 / 3) < 1e-9 for s in result.shares)


def test_split_counts_an_open_segment_to_now_and_reports_the_gap():
    rows = [("household_products", _at(0), _at(45)), ("policy", _at(45), None)]
    result = thirds.split(rows, live_seconds=3600, now=_at(60))
    household, coaching, policy = result.shares
    assert (household.seconds, coaching.seconds, policy.seconds) == (2700, 0, 900)
    assert household.gap == pytest.approx(0.75 - 1 / 3) and not household.on_target
    assert not result.balanced


def test_nothing_marked_is_not_balanced_and_divides_by_nothing():
    result = thirds.split([], live_seconds=0, now=_at(0))
    assert result.marked_seconds == 0 and not result.balanced
    assert all(s.of_marked == 0 and s.of_live == 0 for s in result.shares)


@given(st.lists(st.tuples(st.sampled_from(thirds.KINDS), st.integers(0, 600), st.integers(0, 600)), max_size=20))
def test_split_shares_add_up(raw):
    rows, cursor = [], 0
    for kind, gap, length in raw:
        start = cursor + gap
        rows.append((kind, _at(start), _at(start + length)))
        cursor = start + length
    live = cursor * 60
    result = thirds.split(rows, live_seconds=live, now=_at(cursor))
    assert sum(s.seconds for s in result.shares) == result.marked_seconds <= live
    if result.marked_seconds:
        assert sum(s.of_marked for s in result.shares) == pytest.approx(1)
        assert sum(s.of_live for s in result.shares) == pytest.approx(result.marked_seconds / live)


@pytest.mark.django_db
def test_marking_switches_segments_and_the_end_closes_the_last(room):
    host = room.host.user
    first = thirds.mark_segment(actor=host, stream=room.stream, kind="household_products")
    assert thirds.mark_segment(actor=host, stream=room.stream, kind="household_products").pk == first.pk
    second = thirds.mark_segment(actor=room.world.operator, stream=room.stream, kind="policy")
    first.refresh_from_db()
    assert first.ended_at is not None and first.ended_by == room.world.operator and second.ended_at is None
    assert thirds.mark_segment(actor=host, stream=room.stream, kind=None) is None
    third = thirds.mark_segment(actor=host, stream=room.stream, kind="coaching")
    streams.end_stream(stream=room.stream, actor=host)
    third.refresh_from_db()
    assert third.ended_at == room.stream.__class__.objects.get(pk=room.stream.pk).ended_at
    assert not StreamSegment.objects.filter(stream=room.stream, ended_at__isnull=True).exists()
    assert [s.kind for s in StreamSegment.objects.filter(stream=room.stream)] == ["household_products", "policy",
                                                                                 "coaching"]


@pytest.mark.django_db
def test_refusals_change_nothing(world, room):
    with pytest.raises(errors.NotModerator):
        thirds.mark_segment(actor=make_user(roles.BUYER), stream=room.stream, kind="policy")
    with pytest.raises(ValidationFailed):
        thirds.mark_segment(actor=room.host.user, stream=room.stream, kind="singing")
    scheduled = world.live_room(status="scheduled")
    with pytest.raises(errors.StreamNotLive):
        thirds.mark_segment(actor=scheduled.host.user, stream=scheduled.stream, kind="policy")
    assert not StreamSegment.objects.exists()


@pytest.mark.django_db
def test_stream_split_uses_the_streams_live_time(room):
    thirds.mark_segment(actor=room.host.user, stream=room.stream, kind="policy")
    stream = room.stream.__class__.objects.get(pk=room.stream.pk)
    later = timezone.now() + dt.timedelta(minutes=10)
    result = thirds.stream_split(stream, now=later)
    assert result.live_seconds >= 600 and result.shares[2].seconds >= 599
