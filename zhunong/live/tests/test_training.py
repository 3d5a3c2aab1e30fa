"""Host training (live/training.py): courses, sessions, attendance and certificates, run by the county office."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.live import errors, training
from zhunong.live.models import Attendance, Certificate, Course, TrainingSession
from zhunong.testing import make_regions, make_user

pytestmark = pytest.mark.django_db


def _course(world, *, sessions: int = 2, days_ago: int = 10):  # noqa: ANN001, ANN202
    course = training.create_course(actor=world.operator, county=world.county, title="万村主播培养计划")
    start = timezone.now() - dt.timedelta(days=days_ago)
    for n in range(sessions):
        training.add_session(actor=world.operator, course=course, topic=f"第{n + 1}课",
                             starts_at=start + dt.timedelta(days=n), ends_at=start + dt.timedelta(days=n, hours=2, minutes=30))
    return course


def test_attend_every_session_then_certificate(world):
    host = world.live_room(status="scheduled").host
    course = _course(world)
    for session in course.sessions.all():
        training.record_attendance(actor=world.operator, session=session, host=host, present=True)
    certificate = training.issue_certificate(actor=world.operator, course=course, host=host)
    assert certificate.hours == Decimal("5.0") and certificate.number.startswith(f"PX{world.county.code}-")
    host.refresh_from_db()
    assert host.trained_at == timezone.localdate()
    with pytest.raises(errors.CertificateExists):
        training.issue_certificate(actor=world.operator, course=course, host=host)
    with pytest.raises(errors.CertificateExists):
        training.record_attendance(actor=world.operator, session=course.sessions.first(), host=host, present=False)


def test_a_missed_session_means_no_certificate(world):
    host = world.live_room(status="scheduled").host
    course = _course(world)
    first, second = course.sessions.all()
    training.record_attendance(actor=world.operator, session=first, host=host, present=True)
    training.record_attendance(actor=world.operator, session=second, host=host, present=False)
    with pytest.raises(errors.TrainingIncomplete) as exc:
        training.issue_certificate(actor=world.operator, course=course, host=host)
    assert exc.value.code == "training_incomplete" and exc.value.details == {"sessions": 2, "attended": 1}
    # Correcting the record (they were there after all) makes it complete.
    training.record_attendance(actor=world.operator, session=second, host=host, present=True)
    assert Attendance.objects.filter(host=host).count() == 2
    training.issue_certificate(actor=world.operator, course=course, host=host)


def test_no_certificate_for_a_course_without_sessions_or_not_over(world):
    host = world.live_room(status="scheduled").host
    empty = _course(world, sessions=0)
    with pytest.raises(errors.TrainingIncomplete):
        training.issue_certificate(actor=world.operator, course=empty, host=host)
    future = _course(world, sessions=1, days_ago=-3)
    with pytest.raises(errors.SessionNotOver):
        training.record_attendance(actor=world.operator, session=future.sessions.get(), host=host, present=True)
    assert not Certificate.objects.exists() and not Attendance.objects.exists()


def test_region_rules(world):
    course = _course(world)
    with pytest.raises(PermissionDenied):
        training.create_course(actor=make_user(roles.COUNTY_OPERATOR), county=world.county, title="x")
    with pytest.raises(PermissionDenied):
        training.add_session(actor=make_user(roles.HOST), course=course, topic="x", starts_at=timezone.now(),
                             ends_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ValidationFailed):
        training.create_course(actor=world.operator, county=world.village, title="村级课程")
    # A host of another county's channel does not take this county's course.
    other = make_regions()
    other_op = make_user(roles.COUNTY_OPERATOR, region=other["county"])
    from zhunong.live import streams

    channel = streams.create_channel(actor=other_op, county=other["county"], name="另一个县")
    outsider = streams.create_host(actor=other_op, user=make_user(), channel=channel, kind="villager")
    with pytest.raises(errors.HostNotInCounty):
        training.record_attendance(actor=world.operator, session=course.sessions.first(), host=outsider,
                                   present=True)


@pytest.mark.parametrize(("hours", "field"), [(0, "ends_at"), (-1, "ends_at"), (13, "ends_at")])
def test_session_times(world, hours, field):
    course = training.create_course(actor=world.operator, county=world.county, title="课程")
    start = timezone.now()
    with pytest.raises(ValidationFailed) as exc:
        training.add_session(actor=world.operator, course=course, topic="x", starts_at=start,
                             ends_at=start + dt.timedelta(hours=hours))
    assert exc.value.details["field"] == field
    with pytest.raises(ValidationFailed):
        training.add_session(actor=world.operator, course=course, topic="x", starts_at=dt.datetime(2026, 1, 1, 9),
                             ends_at=dt.datetime(2026, 1, 1, 10))
    assert not TrainingSession.objects.exists() and Course.objects.count() == 1
