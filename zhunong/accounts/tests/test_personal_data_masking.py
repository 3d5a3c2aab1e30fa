"""Phones and addresses are masked for everyone but the buyer and the people who ship the parcel."""

from __future__ import annotations

import pytest

from zhunong.core.redaction import mask_address, mask_all_but_last, mask_id_number, mask_name, mask_phone
from zhunong.fulfilment.models import Shipment
from zhunong.fulfilment.tests.conftest import paid_order
from zhunong.testing import api_auth

FULL = "山东省青岛市市南区香港中路 1 号"


def test_masks():
    assert mask_address(FULL) == "山东省青岛市市南区****"
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区****"
    assert mask_address("五个字地址") == "五个****" and mask_address("") == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****" and mask_phone(None) == ""


def test_names_numbers_and_ids():
    assert mask_name("王小明") == "王*明" and mask_name("李四") == "李*" and mask_name("王") == "王*"
    assert mask_name("") == "" and mask_name(None) == ""
    # A payee's name on a public page: the first character, at most three stars (the length stays hidden).
    assert mask_name("鲁某", keep_last=False) == "鲁*"
    assert mask_name("洋河蓝莓合作社", keep_last=False) == "洋***" and mask_name("鲁", keep_last=False) == "*"
    assert mask_all_but_last("6222021234567890123") == "*" * 15 + "0123" and mask_all_but_last("123") == "***"
    assert mask_id_number("11010519491231002X") == "110105********002X" and mask_id_number("12345") == "*****"


@pytest.mark.django_db
def test_staff_see_the_area_and_the_packing_slip_the_whole_address(client, fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    client.force_login(fw.world.regulator)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "山东省青岛市市南区****" in page and "香港中路" not in page and "13812345678" not in page
    body = client.get(f"/api/v1/orders/{order.pk}", **api_auth(fw.world.regulator)).json()
    assert (body["ship_to_address"], body["ship_to_phone"]) == ("山东省青岛市市南区****", "138****5678")

    mine = client.get(f"/api/v1/orders/{order.pk}", **api_auth(fw.buyer)).json()
    assert (mine["ship_to_address"], mine["ship_to_phone"]) == (FULL, "13812345678")

    # The producer ships from the slip: it carries the address and the phone in full.
    shipment = Shipment.objects.get(order=order)
    client.force_login(fw.manager)
    slip = client.get(f"/fulfilment/shipments/{shipment.pk}/slip/")
    assert slip.status_code == 200 and FULL in slip.content.decode() and "13812345678" in slip.content.decode()
