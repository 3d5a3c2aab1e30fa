"""The operator's host pages with real names: recording, verifying, masking, the full number for the verifying
operator only, and the host's record page."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts import roles
from zhunong.core.models import AuditEntry
from zhunong.live import thirds
from zhunong.live.models import HostIdentity
from zhunong.testing import fake_id_number, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # noqa: ANN001
    c = Client()
    c.force_login(user)
    return c


def test_verify_with_identity_shows_only_the_mask_and_reveals_to_the_verifier(world):
    host = world.live_room(status="scheduled", verified=False).host
    number = fake_id_number()
    op = client_for(world.operator)
    r = op.post(f"/live/manage/hosts/{host.pk}/verify/", {"method": "id_card_in_person", "real_name": "李四",
                                                          "id_number": number})
    assert r.status_code == 302
    host.refresh_from_db()
    assert host.is_verified
    page = op.get("/live/manage/hosts/").content.decode()
    masked = number[:6] + "********" + number[14:]
    assert masked in page and number not in page and "查看完整号码" in page
    r = op.post(f"/live/manage/hosts/{host.pk}/id-number/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and number in r.content.decode()
    colleague = client_for(make_user(roles.COUNTY_OPERATOR, region=world.county))
    page = colleague.get("/live/manage/hosts/").content.decode()
    assert masked in page and number not in page and f"/live/manage/hosts/{host.pk}/id-number/" not in page
    r = colleague.post(f"/live/manage/hosts/{host.pk}/id-number/")
    assert r.status_code == 403 and number not in r.content.decode()
    assert AuditEntry.objects.filter(action="live.host_id_number_viewed").count() == 2


def test_a_wrong_check_digit_is_explained_in_chinese_and_changes_nothing(world):
    host = world.live_room(status="scheduled", verified=False).host
    number = fake_id_number()
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    op = client_for(world.operator)
    r = op.post(f"/live/manage/hosts/{host.pk}/verify/", {"method": "video_call", "real_name": "李四",
                                                          "id_number": wrong}, follow=True)
    assert "校验位不对" in r.content.decode()
    host.refresh_from_db()
    assert not host.is_verified and not HostIdentity.objects.filter(host=host).exists()


def test_changing_the_number_on_the_page_revokes(world):
    room = world.live_room(status="scheduled")
    op = client_for(world.operator)
    r = op.post(f"/live/manage/hosts/{room.host.pk}/identity/", {"real_name": "测试主播", "id_number": fake_id_number()},
                follow=True)
    assert "认证已撤销" in r.content.decode()
    room.host.refresh_from_db()
    assert not room.host.is_verified


def test_host_record_page(world):
    room = world.live_room()
    thirds.mark_segment(actor=room.host.user, stream=room.stream, kind="policy")
    for user in (world.operator, room.host.user, world.regulator):
        page = client_for(user).get(f"/live/hosts/{room.host.pk}/record/")
        assert page.status_code == 200, user
        text = page.content.decode()
        assert "三个三分之一" in text and "宣讲政策" in text and room.stream.title in text
        assert "成交金额" in text  # fulfilment provides the figures
    assert client_for(make_user()).get(f"/live/hosts/{room.host.pk}/record/").status_code == 403
    assert client_for(world.operator).get("/live/hosts/999999/record/").status_code == 404


def test_host_pages_in_english(world):
    room = world.live_room()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.operator)
    record = client.get(f"/live/hosts/{room.host.pk}/record/").content.decode()
    assert "Host record" in record and "The three thirds · all streams" in record and "主播履历" not in record
    console = client.get(f"/live/{room.stream.pk}/console/").content.decode()
    assert "Explaining policy" in console and "停止标记" not in console
    assert "Identity" in client.get("/live/manage/hosts/").content.decode()
