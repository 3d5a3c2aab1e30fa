"""Training pages: the county operator runs a course from creation to certificate; others are kept out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.live.models import Attendance, Certificate, Course
from zhunong.testing import make_regions, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # noqa: ANN001
    c = Client()
    c.force_login(user)
    return c


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_operator_runs_a_course_to_its_certificate(world):
    host = world.live_room(status="scheduled").host
    op = client_for(world.operator)
    r = op.post("/live/manage/training/", {"title": "万村主播培养计划", "description": "手机直播基础"})
    course = Course.objects.get()
    assert r.status_code == 302 and course.county == world.county
    start = timezone.now() - dt.timedelta(days=2)
    r = op.post(f"/live/manage/training/{course.pk}/", {"topic": "选品与讲解", "starts_at": _local(start),
                                                        "ends_at": _local(start + dt.timedelta(hours=2))})
    assert r.status_code == 302
    session = course.sessions.get()
    page = op.get(f"/live/manage/training/{course.pk}/").content.decode()
    assert "选品与讲解" in page and str(host.user) in page and "记出勤" in page
    op.post(f"/live/manage/training/sessions/{session.pk}/attendance/", {"host": host.pk, "present": "1"})
    assert Attendance.objects.get(host=host).present
    r = op.post(f"/live/manage/training/{course.pk}/certificates/", {"host": host.pk}, follow=True)
    certificate = Certificate.objects.get(host=host)
    assert certificate.number in r.content.decode()
    assert "<td>1</td><td>1</td>" in op.get("/live/manage/training/").content.decode().replace("\n", "").replace("    ", "")


def test_certificate_refused_without_attendance_and_outsiders_kept_out(world):
    host = world.live_room(status="scheduled").host
    op = client_for(world.operator)
    op.post("/live/manage/training/", {"title": "胶州直播带货提高班"})
    course = Course.objects.get()
    r = op.post(f"/live/manage/training/{course.pk}/certificates/", {"host": host.pk}, follow=True)
    assert "不能发证" in r.content.decode() and not Certificate.objects.exists()
    assert client_for(make_user(roles.BUYER)).get("/live/manage/training/").status_code == 403
    other_county = make_regions()["county"]
    other_op = client_for(make_user(roles.COUNTY_OPERATOR, region=other_county))
    assert other_op.get(f"/live/manage/training/{course.pk}/").status_code == 404
    assert course.title not in other_op.get("/live/manage/training/").content.decode()
    r = op.post(f"/live/manage/training/{course.pk}/", {"topic": "x", "starts_at": "2026-01-01T10:00",
                                                        "ends_at": "2026-01-01T09:00"})
    assert r.status_code == 200 and not course.sessions.exists()


def test_admin_pages_for_identities_training_and_segments(world):
    room = world.live_room()
    op = client_for(world.operator)
    for model in ("hostidentity", "course", "attendance", "certificate", "streamsegment"):
        r = op.get(f"/admin/live/{model}/")
        assert r.status_code == 200, model
    page = op.get("/admin/live/hostidentity/").content.decode()
    identity = room.host.identity
    assert identity.id_masked in page and identity.id_ciphertext not in page
    r = op.post("/admin/live/course/add/", {
        "county": world.county.pk, "title": "后台开设的课程", "description": "",
        "sessions-TOTAL_FORMS": "1", "sessions-INITIAL_FORMS": "0", "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000", "sessions-0-topic": "第一课", "sessions-0-starts_at_0": "2026-11-01",
        "sessions-0-starts_at_1": "09:00:00", "sessions-0-ends_at_0": "2026-11-01", "sessions-0-ends_at_1": "11:00:00",
        "sessions-0-place": "", "sessions-0-trainer": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    course = Course.objects.get(title="后台开设的课程")
    assert course.created_by == world.operator and course.sessions.get().topic == "第一课"
    # Another county's operator sees none of it.
    other = client_for(make_user(roles.COUNTY_OPERATOR, region=make_regions()["county"]))
    assert "后台开设的课程" not in other.get("/admin/live/course/").content.decode()
