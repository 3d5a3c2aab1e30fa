"""The console's three-thirds control: htmx marks, the panel's answer, and refusals shown in it."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts import roles
from zhunong.live.models import StreamSegment
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # noqa: ANN001
    c = Client()
    c.force_login(user)
    return c


def test_console_shows_the_control_and_the_host_marks_segments(room):
    host = client_for(room.host.user)
    page = host.get(f"/live/{room.stream.pk}/console/").content.decode()
    assert 'id="thirds-panel"' in page and "推介建档立卡户产品" in page
    r = host.post(f"/live/{room.stream.pk}/thirds/", {"kind": "coaching"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'aria-pressed="true"' in r.content.decode()
    assert StreamSegment.objects.get(stream=room.stream, ended_at__isnull=True).kind == "coaching"
    r = host.post(f"/live/{room.stream.pk}/thirds/", {"kind": ""}, HTTP_HX_REQUEST="true")
    assert "未标记" in r.content.decode()
    assert not StreamSegment.objects.filter(ended_at__isnull=True).exists()
    # Without htmx the form posts and comes back to the console.
    r = host.post(f"/live/{room.stream.pk}/thirds/", {"kind": "policy"})
    assert r.status_code == 302 and r["Location"].endswith(f"/live/{room.stream.pk}/console/")


def test_refusals_come_back_in_the_panel_and_change_nothing(world, room):
    viewer = client_for(make_user(roles.BUYER))
    r = viewer.post(f"/live/{room.stream.pk}/thirds/", {"kind": "policy"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    scheduled = world.live_room(status="scheduled")
    r = client_for(world.operator).post(f"/live/{scheduled.stream.pk}/thirds/", {"kind": "policy"},
                                        HTTP_HX_REQUEST="true")
    assert "直播未在进行中" in r.content.decode()
    r = client_for(world.operator).post(f"/live/{room.stream.pk}/thirds/", {"kind": "dancing"}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in r.content.decode()
    assert not StreamSegment.objects.exists()
    assert client_for(world.operator).post("/live/999999/thirds/", {"kind": "policy"}).status_code == 404
