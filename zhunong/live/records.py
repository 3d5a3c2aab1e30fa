"""Reads about hosts: a host's record (streams, hours live, sales, complaints, refund rate, training, the
three thirds per stream and by month), and the training pages' lists. Writes are realname.py, training.py
and thirds.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q

from . import hooks, thirds
from .models import Attendance, Certificate, Course, Host, HostIdentity, Stream, StreamSegment, StreamStatus


@dataclass
class StreamLine:
    stream: Stream
    live_seconds: int
    split: thirds.Split


@dataclass
class MonthLine:
    month: dt.date
    streams: int
    split: thirds.Split


@dataclass
class HostRecord:
    host: Host
    identity: HostIdentity | None
    streams: list[StreamLine]
    counts: dict[str, int]
    live_seconds: int
    figures: dict | None  # None: no app above live provides sales (fulfilment not installed)
    certificates: list[Certificate]
    training_hours: Decimal
    overall: thirds.Split
    by_month: list[MonthLine] = field(default_factory=list)

    @property
    def hours_live(self) -> float:
        return round(self.live_seconds / 3600, 1)

    @property
    def refund_rate(self) -> float | None:
        if not self.figures or not self.figures.get("sales"):
            return None
        return float(self.figures["refunded"] / self.figures["sales"])


def host_record(host: Host, *, now: dt.datetime | None = None) -> HostRecord:
    now = now or timezone.now()
    streams = list(Stream.objects.filter(host=host).order_by("-planned_start", "-id"))
    counts = {status: 0 for status in StreamStatus.values}
    for stream in streams:
        counts[stream.status] += 1
    segments: dict[int, list[tuple[str, dt.datetime, dt.datetime | None]]] = {}
    for stream_id, kind, start, end in StreamSegment.objects.filter(stream__host=host).values_list(
            "stream_id", "kind", "started_at", "ended_at"):
        segments.setdefault(stream_id, []).append((kind, start, end))
    lines, months = [], {}
    for stream in streams:
        seconds = thirds.live_seconds(stream, now=now)
        rows = segments.get(stream.pk, [])
        lines.append(StreamLine(stream=stream, live_seconds=seconds,
                                split=thirds.split(rows, live_seconds=seconds, now=now)))
        if stream.started_at is not None:
            local = timezone.localtime(stream.started_at)
            month = months.setdefault(local.date().replace(day=1), {"streams": 0, "seconds": 0, "rows": []})
            month["streams"] += 1
            month["seconds"] += seconds
            month["rows"].extend(rows)
    total_seconds = sum(line.live_seconds for line in lines)
    every_row = [row for rows in segments.values() for row in rows]
    certificates = list(Certificate.objects.filter(host=host).select_related("course", "issued_by"))
    attended = Attendance.objects.filter(host=host, present=True).select_related("session")
    training_seconds = sum((a.session.ends_at - a.session.starts_at).total_seconds() for a in attended)
    return HostRecord(
        host=host,
        identity=HostIdentity.objects.filter(host=host).first(),
        streams=lines,
        counts=counts,
        live_seconds=total_seconds,
        figures=hooks.host_figures([s.pk for s in streams]),
        certificates=certificates,
        training_hours=(Decimal(training_seconds) / 3600).quantize(Decimal("0.1")),
        overall=thirds.split(every_row, live_seconds=total_seconds, now=now),
        by_month=[MonthLine(month=m, streams=v["streams"],
                            split=thirds.split(v["rows"], live_seconds=v["seconds"], now=now))
                  for m, v in sorted(months.items(), reverse=True)],
    )


def courses_for_staff(user: User) -> QuerySet[Course]:
    """Courses of the counties the user runs (every course for a platform admin)."""
    qs = Course.objects.select_related("county").order_by("-created_at", "-id")
    if not policy.may_hold(user, "channel.manage"):
        return qs.none()
    q = region_q(user, "county")
    return qs.filter(q) if q is not None else qs


def course_hosts(course: Course) -> QuerySet[Host]:
    """The hosts who may take the course: those of channels in its county."""
    return (Host.objects.filter(channel__county__path__startswith=course.county.path)
            .select_related("user", "channel").order_by("id"))


def attendance_grid(course: Course) -> dict[tuple[int, int], bool]:
    """(session id, host id) -> present, for the attendance recorded so far."""
    return {(a.session_id, a.host_id): a.present for a in Attendance.objects.filter(session__course=course)}


def certificates_of(course: Course) -> dict[int, Certificate]:
    return {c.host_id: c for c in Certificate.objects.filter(course=course)}


def host_by_id(host_id: int) -> Host | None:
    return Host.objects.select_related("user", "channel__county", "verified_by").filter(pk=host_id).first()
