"""Refund decisions on an order with lines from two producers: each producer decides for its own lines.

Before, only a user managing *every* line's producer (or county staff) could reject or refund, so the
managers of a two-producer order could not answer a buyer's request about their own parcel.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.catalog import services as catalog
from zhunong.core.errors import PermissionDenied
from zhunong.orders import services
from zhunong.orders.models import OrderStatus
from zhunong.producers import services as producers
from zhunong.testing import make_user


@pytest.fixture
def two_producers(world):  # noqa: ANN001, ANN201
    """A blueberry household and a tea co-op, each with its own manager, one order with a line of each."""
    manager_a = make_user(roles.PRODUCER_MANAGER, region=world.county)
    manager_b = make_user(roles.PRODUCER_MANAGER, region=world.county)
    world.producer.managers.add(manager_a)
    tea_coop = producers.create_producer(actor=world.operator, name="普安红茶合作社", village=world.village,
                                         kind="cooperative", payee_name="合作社", payee_account="6222020200005678",
                                         managers=[manager_b])
    berries = world.listed_product(stock=10, price="30.00")
    garden = producers.create_plot(actor=world.operator, producer=tea_coop, name="茶山", area_mu="30", crop="茶")
    leaves = producers.create_batch(actor=world.operator, plot=garden, quantity="200", unit="jin", grade="一级",
                                    harvested_on=timezone.localdate() - dt.timedelta(days=5))
    world.inspect(leaves)
    tea = catalog.create_product(actor=world.operator, name="普安红茶", price="80.00", cost_floor="40.00",
                                 origin=world.county, producers=[tea_coop], batches=[leaves], stock=10)
    catalog.submit_for_inspection(actor=world.operator, product=tea)
    tea.refresh_from_db()
    assert tea.status == "listed"
    buyer = make_user()
    order = services.create_order(buyer=buyer, lines=[{"product_id": berries.pk, "quantity": 1},
                                                      {"product_id": tea.pk, "quantity": 1}],
                                  idempotency_key="two")
    services.mark_paid(order=order, amount="110.00", payment_ref="pi_two")
    lines = {line.producer_id: line for line in order.lines.all()}
    return {"order": order, "buyer": buyer, "a": manager_a, "b": manager_b,
            "line_a": lines[world.producer.pk], "line_b": lines[tea_coop.pk]}


def test_each_producer_rejects_a_request_about_its_own_line_only(two_producers, world):  # noqa: ANN001
    t = two_producers
    order = services.request_refund(order=t["order"], actor=t["buyer"], reason="茶叶受潮",
                                    lines={t["line_b"].pk: Decimal("80.00")})
    with pytest.raises(PermissionDenied):
        services.reject_refund(order=order, actor=t["a"], reason="不是我家的")
    order = services.reject_refund(order=order, actor=t["b"], reason="已核实包装完好")
    assert order.status == OrderStatus.PAID
    assert order.history.last().actor == t["b"]

    # A request about both parcels needs someone over both: the county operator.
    order = services.request_refund(order=order, actor=t["buyer"], reason="都不满意",
                                    lines={t["line_a"].pk: Decimal("30.00"), t["line_b"].pk: Decimal("80.00")})
    for manager in (t["a"], t["b"]):
        with pytest.raises(PermissionDenied):
            services.reject_refund(order=order, actor=manager, reason="不同意")
    assert services.reject_refund(order=order, actor=world.operator, reason="已协调").status == OrderStatus.PAID


def test_each_producer_refunds_its_own_lines_only(two_producers, django_capture_on_commit_callbacks):  # noqa: ANN001
    t = two_producers
    order = t["order"]
    with pytest.raises(PermissionDenied):
        services.refund(order=order, actor=t["a"], amounts={t["line_b"].pk: Decimal("10.00")}, reason="x")
    with pytest.raises(PermissionDenied):
        services.refund(order=order, actor=t["a"], reason="everything")  # the other producer's line too
    stranger = make_user(roles.PRODUCER_MANAGER)
    with pytest.raises(PermissionDenied):
        services.refund(order=order, actor=stranger, amounts={t["line_a"].pk: Decimal("1.00")}, reason="x")
    order.refresh_from_db()
    assert order.refunded_total == Decimal("0")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.refund(order=order, actor=t["a"], amounts={t["line_a"].pk: Decimal("30.00")},
                                reason="蓝莓压坏")
    order.refresh_from_db()
    assert order.refunded_total == Decimal("30.00") and order.status == OrderStatus.PAID
