"""Income that reaches households: co-op sales attributed to members, totals reconciled with the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.catalog import services as catalog
from zhunong.insights import income, rollups
from zhunong.insights.models import IncomeDay, SalesDay
from zhunong.orders import services as orders
from zhunong.payments.models import LedgerEntry
from zhunong.producers import services as producers
from zhunong.producers.models import Producer
from zhunong.testing import build_world, make_user, unique

pytestmark = pytest.mark.django_db


def test_allocate_adds_up_to_the_fen_and_breaks_ties_by_id():
    assert rollups.allocate(1000, {3: 1, 1: 1, 2: 1}) == {1: 334, 2: 333, 3: 333}
    assert rollups.allocate(-1000, {3: 1, 1: 1, 2: 1}) == {1: -334, 2: -333, 3: -333}
    assert rollups.allocate(1, {5: Decimal("0.5"), 4: Decimal("0.5")}) == {4: 1}
    assert rollups.allocate(0, {1: 1}) == {}
    assert rollups.allocate(100, {}) == {}
    # Largest remainders win the leftover fen: 7 * (0.45, 0.35, 0.2) = 3.15, 2.45, 1.4 -> 3, 2, 1 + 1 to key 2.
    assert rollups.allocate(7, {1: Decimal("0.45"), 2: Decimal("0.35"), 3: Decimal("0.2")}) == {1: 3, 2: 3, 3: 1}
    for amount in (1, 2, 99, 12345, 100001):
        parts = rollups.allocate(amount, {1: Decimal("1.3333"), 2: Decimal("2"), 3: Decimal("0.0001")})
        assert sum(parts.values()) == amount


class Coop:
    """A co-op of three households (two registered poor), selling one product; a household selling its own."""

    def __init__(self, world) -> None:  # noqa: ANN001
        self.world = world
        op = world.operator
        self.coop = producers.create_producer(actor=op, name="山里村蓝莓合作社", village=world.village,
                                              kind=Producer.Kind.COOPERATIVE)
        self.poor = world.producer  # registered poor (build_world)
        self.other = producers.create_producer(actor=op, name="王家果园", village=world.village)
        self.poor2 = producers.create_producer(actor=op, name="李家果园", village=world.village,
                                               registered_poor=True)
        self.joined = timezone.localdate() - dt.timedelta(days=30)
        for member in (self.poor, self.other, self.poor2):
            producers.join_coop(actor=op, coop=self.coop, member=member, joined_on=self.joined)
        self.own = world.listed_product(name="鲁家蓝莓", price="10.00", cost_floor="5.00")
        self.coop_product = catalog.create_product(
            actor=op, name="合作社蓝莓", price="10.00", cost_floor="5.00", origin=world.county,
            producers=[self.coop, self.poor], batches=[world.batch], stock=500)
        catalog.submit_for_inspection(actor=op, product=self.coop_product)
        self.coop_product.refresh_from_db()
        assert self.coop_product.status == "listed"
        self.buyer = make_user(roles.BUYER)

    def fixed_shares(self, *shares: str, on: dt.date | None = None) -> None:
        members = (self.poor, self.other, self.poor2)
        producers.set_share_scheme(actor=self.world.operator, coop=self.coop, basis="fixed",
                                   effective_from=on or self.joined, shares={m.pk: s for m, s in zip(members, shares, strict=True)})

    def paid(self, *lines):  # noqa: ANN002, ANN201
        order = orders.create_order(buyer=self.buyer, idempotency_key=unique("k"),
                                    lines=[{"product_id": p.pk, "quantity": q} for p, q in lines])
        orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
        order.refresh_from_db()
        return order


@pytest.fixture
def coop(world):  # noqa: ANN001, ANN201
    return Coop(world)


def today_range() -> dict:
    today = timezone.localdate()
    return {"start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=1)}


def ledger_total() -> Decimal:
    return sum(LedgerEntry.objects.values_list("amount", flat=True), Decimal("0"))


def test_co_op_sales_reach_member_households_by_fixed_shares(coop):
    coop.fixed_shares("1", "1", "1")
    coop.paid((coop.coop_product, 1), (coop.own, 2))
    rows = {r["id"]: r for r in income.households(coop.world.operator, **today_range())}
    # 10.00 in thirds: the leftover fen goes to the smallest id (the first member).
    assert rows[coop.poor.pk]["via_coops"] == Decimal("3.34")
    assert rows[coop.poor.pk]["direct"] == Decimal("20.00")
    assert rows[coop.other.pk]["total"] == Decimal("3.33")
    assert rows[coop.poor2.pk]["total"] == Decimal("3.33")
    s = income.summary(coop.world.operator, **today_range())
    assert (s.total, s.households, s.poor, s.via_coops, s.retained) == (
        Decimal("30.00"), Decimal("30.00"), Decimal("26.67"), Decimal("10.00"), Decimal("0.00"))
    assert (s.households_reached, s.poor_reached, s.imported) == (3, 2, Decimal("0.00"))
    assert income.reconcile(**today_range())["difference"] == 0


def test_partial_and_full_refunds_reconcile_exactly_with_the_ledger(coop):
    coop.fixed_shares("0.45", "0.35", "0.2")
    first = coop.paid((coop.coop_product, 3), (coop.own, 1))
    second = coop.paid((coop.coop_product, 1))
    line = first.lines.get(product=coop.coop_product)
    orders.refund(order=first, actor=coop.world.operator, amounts={line.pk: Decimal("3.33")}, reason="部分破损")
    orders.refund(order=second, actor=coop.world.operator, reason="缺货")
    assert ledger_total() == Decimal("36.67")  # 30 + 10 + 10 - 3.33 - 10
    check = income.reconcile(**today_range())
    assert check == {"ledger": Decimal("36.67"), "income": Decimal("36.67"), "difference": Decimal("0")}
    # The co-op's net 2667 fen divided 45/35/20: 1200.15, 933.45, 533.4 -> floors 1200, 933, 533 and the
    # leftover fen to the largest remainder (0.45).
    rows = {r["id"]: r["via_coops"] for r in income.households(coop.world.operator, **today_range())}
    assert rows == {coop.poor.pk: Decimal("12.00"), coop.other.pk: Decimal("9.34"), coop.poor2.pk: Decimal("5.33")}
    assert sum(rows.values()) == Decimal("26.67")
    sales = SalesDay.objects.get(product=coop.coop_product)
    assert (sales.gross_fen, sales.refunded_fen, sales.units, sales.lines, sales.refunds) == (4000, 1333, 4, 2, 2)


def test_a_co_op_without_a_scheme_keeps_the_money_in_the_figures(coop):
    coop.paid((coop.coop_product, 2))
    s = income.summary(coop.world.operator, **today_range())
    assert (s.total, s.households, s.retained) == (Decimal("20.00"), Decimal("0.00"), Decimal("20.00"))
    assert income.reconcile(**today_range())["difference"] == 0


def test_batch_scheme_pays_the_members_whose_batches_the_product_sells_from(coop):
    producers.set_share_scheme(actor=coop.world.operator, coop=coop.coop, basis="batch", effective_from=coop.joined)
    coop.paid((coop.coop_product, 1))
    rows = {r["id"]: r["total"] for r in income.households(coop.world.operator, **today_range())}
    assert rows == {coop.poor.pk: Decimal("10.00")}  # the product sells from world.batch, the first member's


def test_rebuild_from_the_ledger_gives_the_same_rows(coop):
    coop.fixed_shares("2", "1", "1")
    order = coop.paid((coop.coop_product, 7), (coop.own, 1))
    coop.paid((coop.coop_product, 1))
    line = order.lines.get(product=coop.coop_product)
    orders.refund(order=order, actor=coop.world.operator, amounts={line.pk: Decimal("0.07")}, reason="少称")

    def snapshot() -> tuple:
        sales = sorted(SalesDay.objects.values_list("day", "source", "product_id", "producer_id", "stream_id",
                                                    "gross_fen", "refunded_fen", "units", "lines", "refunds"))
        inc = sorted(IncomeDay.objects.values_list("day", "product_id", "payer_id", "recipient_id", "amount_fen",
                                                   "retained"))
        return sales, inc

    before = snapshot()
    rollups.rebuild()
    assert snapshot() == before


def test_regions_and_scoping(coop):
    coop.fixed_shares("1", "1", "1")
    coop.paid((coop.coop_product, 3))
    world = coop.world
    township = world.regions["township"]
    by_town = income.by_region(world.operator, **today_range(), region=world.county)
    assert [(r["id"], r["total"], r["poor"]) for r in by_town] == [(township.pk, Decimal("30.00"), Decimal("20.00"))]
    by_village = income.by_region(world.operator, **today_range(), region=township)
    assert by_village[0]["total"] == Decimal("30.00")
    outsider = build_world()
    assert income.households(outsider.operator, **today_range()) == []
    assert income.summary(outsider.operator, **today_range()).total == Decimal("0.00")
    assert income.households(world.operator, **today_range(), poor_only=True)[0]["poor"] is True
    assert len(income.households(world.operator, **today_range(), poor_only=True)) == 2
    days = income.daily(world.operator, **today_range())
    assert len(days) == 3 and sum(d["total"] for d in days) == Decimal("30.00")
