"""Host training run by a county's office: courses, their sessions, attendance, and certificates.

Who may: the county's operators (and platform admins), through the policy's `channel.manage` (a county's
channel, its hosts and their training are one job). A host takes part in courses of the county their
channel is in. A certificate is issued when the host attended every session of the course and the last
one is over; its hours are the attended sessions' length. Issuing one sets the host's `trained_at`
(培训结业) if it was not set, so the older single date stays meaningful.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.text import clean_text
from zhunong.producers.models import Region

from .errors import CertificateExists, HostNotInCounty, SessionNotOver, TrainingIncomplete
from .models import Attendance, Certificate, Course, Host, TrainingSession

MAX_SESSION_HOURS = 12


def _require_manager(actor: User | None, obj: Course | Region) -> None:
    policy.require(actor, "channel.manage", obj,
                   error=PermissionDenied("Only the county's operators run its host training."))


@transaction.atomic
def create_course(*, actor: User, county: Region, title: str, description: str = "") -> Course:
    if county.level != Region.Level.COUNTY:
        raise ValidationFailed("county: a course belongs to a county.", details={"field": "county"})
    _require_manager(actor, county)
    return Course.objects.create(
        county=county, created_by=actor,
        title=clean_text(title, field="title", max_length=100),
        description=clean_text(description, field="description", max_length=2000, required=False, multiline=True))


@transaction.atomic
def add_session(*, actor: User, course: Course, topic: str, starts_at: dt.datetime, ends_at: dt.datetime,
                place: str = "", trainer: str = "") -> TrainingSession:
    _require_manager(actor, course)
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationFailed("starts_at/ends_at: give a time zone.", details={"field": "starts_at"})
    if ends_at <= starts_at:
        raise ValidationFailed("ends_at: must be after the start.", details={"field": "ends_at"})
    if ends_at - starts_at > dt.timedelta(hours=MAX_SESSION_HOURS):
        raise ValidationFailed(f"ends_at: a session lasts at most {MAX_SESSION_HOURS} hours.",
                               details={"field": "ends_at"})
    return TrainingSession.objects.create(
        course=course, starts_at=starts_at, ends_at=ends_at,
        topic=clean_text(topic, field="topic", max_length=100),
        place=clean_text(place, field="place", max_length=100, required=False),
        trainer=clean_text(trainer, field="trainer", max_length=50, required=False))


def _require_in_county(host: Host, course: Course) -> None:
    if not host.channel.county.is_within(course.county):
        raise HostNotInCounty(details={"host_id": host.pk})


@transaction.atomic
def record_attendance(*, actor: User, session: TrainingSession, host: Host, present: bool) -> Attendance:
    """Whether `host` attended `session` (again: the new answer replaces the old one)."""
    course = session.course
    _require_manager(actor, course)
    _require_in_county(host, course)
    if session.starts_at > timezone.now():
        raise SessionNotOver()
    if Certificate.objects.filter(course=course, host=host).exists():
        raise CertificateExists("The certificate is issued; the attendance it rests on cannot change.")
    row, _ = Attendance.objects.update_or_create(session=session, host=host,
                                                 defaults={"present": bool(present), "recorded_by": actor})
    return row


def attended_hours(course: Course, host: Host) -> Decimal:
    seconds = sum((s.ends_at - s.starts_at).total_seconds() for s in TrainingSession.objects.filter(
        course=course, attendance__host=host, attendance__present=True))
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"))


@transaction.atomic
def issue_certificate(*, actor: User, course: Course, host: Host) -> Certificate:
    course = Course.objects.select_for_update().select_related("county").get(pk=course.pk)
    _require_manager(actor, course)
    _require_in_county(host, course)
    if Certificate.objects.filter(course=course, host=host).exists():
        raise CertificateExists()
    sessions = list(course.sessions.all())
    attended = set(Attendance.objects.filter(session__course=course, host=host, present=True)
                   .values_list("session_id", flat=True))
    now = timezone.now()
    if not sessions or any(s.pk not in attended for s in sessions) or max(s.ends_at for s in sessions) > now:
        raise TrainingIncomplete(details={"sessions": len(sessions), "attended": len(attended)})
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                course=course, host=host, number=f"PX{course.county.code}-{course.pk:04d}-{host.pk:05d}",
                hours=attended_hours(course, host), issued_by=actor, issued_at=now)
    except IntegrityError:
        raise CertificateExists() from None
    if host.trained_at is None:
        Host.objects.filter(pk=host.pk).update(trained_at=timezone.localdate(now))
    return certificate

