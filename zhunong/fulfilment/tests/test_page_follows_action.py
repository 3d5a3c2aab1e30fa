"""The page follows the action: after 发货 the parcel leaves the 待发货 list with a message, after 确认收到 the
order's status and review form show without a manual reload (htmx answers with HX-Refresh)."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.fulfilment.services import shipments as shipment_services

from .conftest import paid_order

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_shipping_reloads_the_list_with_a_message(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    client = _client(fw.manager)
    r = client.post(f"/fulfilment/shipments/{shipment.pk}/ship/",
                    {"carrier": "sf", "tracking_number": "SF2020061800"}, headers=HTMX)
    assert r.status_code == 200 and r["HX-Refresh"] == "true"
    page = client.get("/fulfilment/").content.decode()
    assert f'id="shipment-{shipment.pk}"' not in page  # no longer waiting to be shipped
    assert f"已发货：{order.number}" in page
    # A refused waybill keeps the row in place with its error, no reload.
    other = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    r = client.post(f"/fulfilment/shipments/{other.pk}/ship/", {"carrier": "sf", "tracking_number": "1"},
                    headers=HTMX)
    assert "HX-Refresh" not in r and "notice error" in r.content.decode()


def test_confirming_delivery_reloads_the_order(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf", tracking_number="SF2020061802")
    buyer = _client(fw.buyer)
    r = buyer.post(f"/fulfilment/shipments/{shipment.pk}/confirm/", headers=HTMX)
    assert r.status_code == 200 and r["HX-Refresh"] == "true"
    assert "已确认收货，欢迎评价。" in buyer.get(f"/orders/{order.pk}/").content.decode()
