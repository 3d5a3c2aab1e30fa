"""Forms outside the admin show each error once, in Chinese, beside its field (not the services' English)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.core.errors import ValidationFailed
from zhunong.live.forms import ScheduleForm, show_service_error
from zhunong.live.models import Stream

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


def client_for(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def field_block(html: str, name: str) -> str:
    """The includes/form_fields.html block of one field: its label, input and errors."""
    match = re.search(r'<div class="field[^"]*">\s*<label for="id_' + name + r'">.*?</div>', html, re.S)
    assert match, name
    return match.group(0)


def test_schedule_end_before_start_shows_one_chinese_error_beside_the_end(world) -> None:  # noqa: ANN001
    room = world.live_room(0, status="scheduled")
    start = timezone.localtime() + dt.timedelta(hours=3)
    response = client_for(world.operator).post("/live/manage/schedule/", {
        "channel": room.channel.pk, "title": "倒着的时间", "host": room.host.pk,
        "planned_start": start.strftime(FMT), "planned_end": (start - dt.timedelta(hours=1)).strftime(FMT)})
    assert response.status_code == 200
    html = response.content.decode()
    assert not Stream.objects.filter(title="倒着的时间").exists()
    assert html.count("结束时间必须晚于开始时间") == 1
    assert "结束时间必须晚于开始时间" in field_block(html, "planned_end")
    assert "must be after" not in html and "planned_end:" not in html
    assert 'class="card stacked"' in html


def test_schedule_too_long_and_in_the_past_are_refused_on_the_field(world) -> None:  # noqa: ANN001
    room = world.live_room(0, status="scheduled")
    start = timezone.localtime() + dt.timedelta(hours=1)
    long_one = client_for(world.operator).post("/live/manage/schedule/", {
        "channel": room.channel.pk, "title": "太长", "host": room.host.pk,
        "planned_start": start.strftime(FMT), "planned_end": (start + dt.timedelta(hours=13)).strftime(FMT)})
    assert "一场直播最长 12 小时" in field_block(long_one.content.decode(), "planned_end")
    past = timezone.localtime() - dt.timedelta(hours=5)
    old = client_for(world.operator).post("/live/manage/schedule/", {
        "channel": room.channel.pk, "title": "过去", "host": room.host.pk,
        "planned_start": past.strftime(FMT), "planned_end": (past + dt.timedelta(hours=1)).strftime(FMT)})
    assert "结束时间已经过去" in field_block(old.content.decode(), "planned_end")
    assert not Stream.objects.filter(title__in=["太长", "过去"]).exists()


def test_a_service_refusal_lands_once_on_its_field_in_chinese() -> None:
    form = ScheduleForm(data={})
    form.is_valid()
    show_service_error(form, ValidationFailed("products: listed twice.", details={"field": "products"}))
    assert form.errors["products"] == ["同一商品选了两次。"]
    show_service_error(form, ValidationFailed("主播尚未实名认证。", details={"field": "nope"}))
    assert form.non_field_errors() == ["主播尚未实名认证。"]


def test_course_session_end_before_start_is_refused_beside_the_end(world) -> None:  # noqa: ANN001
    from zhunong.live import training

    course = training.create_course(actor=world.operator, county=world.county, title="直播带货入门", description="")
    start = timezone.localtime() + dt.timedelta(days=1)
    response = client_for(world.operator).post(f"/live/manage/training/{course.pk}/", {
        "topic": "选品", "starts_at": start.strftime(FMT), "ends_at": (start - dt.timedelta(hours=1)).strftime(FMT)})
    html = response.content.decode()
    assert html.count("结束时间必须晚于开始时间") == 1
    assert "结束时间必须晚于开始时间" in field_block(html, "ends_at")
    assert not course.sessions.exists()
