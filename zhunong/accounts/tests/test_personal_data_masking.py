"""Phones and addresses are masked for everyone but the buyer and the people who ship the parcel."""

from __future__ import annotations

import pytest

from zhunong.core.text import mask_address, mask_phone
from zhunong.fulfilment.models import Shipment
from zhunong.fulfilment.tests.conftest import paid_order
from zhunong.testing import api_auth

FULL = "山东省青岛市市南区香港中路 1 号"


def test_masks():
    assert mask_address(FULL) == "山东省青岛市市南区****"
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区****"
    assert mask_address("五个字地址") == "五个****" and mask_address("") == ""
    assert mask_phone("13812345678") == "138****5678"


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
