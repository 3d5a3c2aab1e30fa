"""After a partial refund before shipping (1 of 2 units), the packing list, the slip and the buyer's parcels
show what is left to ship, not the quantity ordered."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from zhunong.orders import services as orders

from .conftest import paid_order

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_one_of_two_units_refunded_leaves_one_to_ship(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 2)])
    line = order.lines.get()
    shipment = order.shipments.get()
    unit = line.paid_amount / 2
    orders.refund(order=order, actor=fw.operator, amounts={line.pk: unit}, reason="拍多了")
    item = shipment.items.get()
    assert (item.quantity, item.refunded_units, item.to_ship) == (2, 1, 1)
    manager = _client(fw.manager)
    packing = manager.get("/fulfilment/").content.decode()
    row = packing.split(f'id="shipment-{shipment.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "× <strong>1</strong>" in row and "已退 1 件" in row and "× <strong>2</strong>" not in row
    slip = manager.get(f"/fulfilment/shipments/{shipment.pk}/slip/").content.decode()
    assert "<strong>1</strong>" in slip and "<strong>2</strong>" not in slip and "已退 1 件" in slip
    detail = _client(fw.buyer).get(f"/orders/{order.pk}/").content.decode()
    assert f"{fw.product.name} × 1（已退 1 件）" in detail


def test_money_back_short_of_a_unit_ships_everything(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 2)])
    line = order.lines.get()
    orders.refund(order=order, actor=fw.operator, amounts={line.pk: Decimal("5.00")}, reason="运费补偿")
    item = order.shipments.get().items.get()
    assert (item.refunded_units, item.to_ship) == (0, 2)
