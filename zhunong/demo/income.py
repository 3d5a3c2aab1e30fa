"""Demo data of the data centre's household income for `zhunong seed_demo`.

In the main demo county (安化县) the tea co-op (安化县唐溪茶叶专业合作社) gets its member households: the
contract gardens 彭家茶园 and 谌家茶园 (registered poverty households, 建档立卡) and 龚家茶园, members since
last spring, with the co-op's choice recorded: income shared by the quantity of leaves each delivered
(交售), and the deliveries themselves. Then buyers order the co-op's 茯砖茶 over the last four weeks (a few
orders a day, one partly refunded for a crushed brick) and, in the live stream, the pinned product, so the
income page shows what reached each household, the stream board its sales curve and the county home a
week against the last.

All through the real services (membership, orders, payments, refunds); the past orders are then dated back
to their day (order, payment and ledger entries alike) and the rollups rebuilt from the ledger, which is how
history loaded in bulk enters the data centre. Idempotent: nothing is added once the co-op has members'
deliveries recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.errors import DomainError
from zhunong.demo import addresses as demo_addresses
from zhunong.insights import rollups
from zhunong.live.models import Stream, StreamStatus
from zhunong.orders import services as orders
from zhunong.orders.models import Order, OrderStatus
from zhunong.payments.models import LedgerEntry
from zhunong.producers import services as producers
from zhunong.producers.models import MemberDelivery, Producer

from .world import MAIN_COUNTY_CODE

COOP = "安化县唐溪茶叶专业合作社"
MEMBERS = [("彭家茶园", "1200"), ("谌家茶园", "900"), ("龚家茶园", "450")]  # leaves delivered (斤)
DAYS = 28
BUYERS = ["buyer", "buyer-shanghai", "buyer-heilongjiang"]


def seed(*, stdout: Any, dry_run: bool) -> Counter:  # noqa: ANN401
    created: Counter = Counter()
    coop = Producer.objects.filter(name=COOP, village__path__contains=f"/{MAIN_COUNTY_CODE}/").first()
    operator = User.objects.filter(username="operator").first()  # the main county's operator (world.py)
    if coop is None or operator is None:
        stdout.write("income: no demo tea co-op; nothing to add")
        return created
    if MemberDelivery.objects.filter(coop=coop).exists():
        stdout.write("income: co-op members already recorded; nothing new")
        return created
    if dry_run:
        stdout.write(f"income: would record {len(MEMBERS)} members of {COOP} with their deliveries and place "
                     f"about {DAYS * 2} past orders of its products")
        return created
    today = timezone.localdate()
    joined = today - dt.timedelta(days=300)
    members = []
    for name, delivered in MEMBERS:
        member = Producer.objects.get(name=name, village__path__contains=f"/{MAIN_COUNTY_CODE}/")
        if not coop.memberships.filter(member=member, left_on__isnull=True).exists():
            producers.join_coop(actor=operator, coop=coop, member=member, joined_on=joined)
            created["members"] += 1
        members.append((member, delivered))
    producers.set_share_scheme(actor=operator, coop=coop, basis="quantity", effective_from=joined,
                               note="社员大会决议：按交售鲜叶数量分配合作社销售收入")
    for n, (member, delivered) in enumerate(members):
        producers.record_delivery(actor=operator, coop=coop, member=member, quantity=delivered,
                                  delivered_on=joined + dt.timedelta(days=20 + n))
        created["deliveries"] += 1
    _orders(coop, operator, today, created)
    stdout.write("income: " + ", ".join(f"{v} {k}" for k, v in sorted(created.items())))
    return created


def _pay(buyer: User, product: Product, quantity: int, key: str, *, stream: Stream | None = None) -> Order | None:
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": quantity}],
                                idempotency_key=key, stream=stream, ship_to=demo_addresses.ship_to(buyer))
    if getattr(order, "idempotent_replay", False) or order.status != OrderStatus.RESERVED:
        return None
    orders.mark_paid(order=order, amount=order.total, payment_ref=f"demo-{key}")
    order.refresh_from_db()
    return order


def _orders(coop: Producer, operator: User, today: dt.date, created: Counter) -> None:
    buyers = list(User.objects.filter(username__in=BUYERS).order_by("username"))
    products = list(Product.objects.filter(producers=coop, status=ListingStatus.LISTED).order_by("id"))
    if not buyers or not products:
        return
    tz = timezone.get_current_timezone()
    past: list[tuple[Order, dt.datetime]] = []
    for d in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=d)
        # Two orders most days, more at weekends; the last week sells more than the one before.
        count = 1 + (day.weekday() >= 5) + (d <= 7)
        for k in range(count):
            product = products[(d + k) % len(products)]
            if product.stock < 10:
                continue
            order = _pay(buyers[(d + k) % len(buyers)], product, 1 + (d + k) % 2, f"demo-income-{d}-{k}")
            if order is not None:
                at = dt.datetime.combine(day, dt.time(10 + 3 * k, (7 * d) % 60), tzinfo=tz)
                past.append((order, at))
                created["orders"] += 1
    # One buyer's brick arrived crushed: half of that order refunded.
    if past:
        order = past[len(past) // 2][0]
        line = order.lines.get()
        orders.refund(order=order, actor=operator, amounts={line.pk: (line.paid_amount / 2).quantize(Decimal("0.01"))},
                      reason="茶砖运输压碎，退一半货款")
        created["refunds"] += 1
    for order, at in past:
        Order.objects.filter(pk=order.pk).update(created_at=at, paid_at=at, updated_at=at)
        LedgerEntry.objects.filter(order_line__order=order, kind=LedgerEntry.Kind.SALE).update(created_at=at)
        LedgerEntry.objects.filter(order_line__order=order, kind=LedgerEntry.Kind.REFUND).update(
            created_at=F("created_at") - (timezone.now() - at) + dt.timedelta(days=3))
    # Orders in the live stream, for its sales curve (placed now, like the demo's other stream orders).
    stream = (Stream.objects.filter(status=StreamStatus.LIVE, channel__county__code=MAIN_COUNTY_CODE)
              .order_by("id").first())
    if stream is not None:
        shelf = list(stream.products.filter(status=ListingStatus.LISTED).order_by("id"))
        for n, product in enumerate(shelf * 2):
            try:
                order = _pay(buyers[n % len(buyers)], product, 1, f"demo-income-live-{n}", stream=stream)
            except DomainError:  # e.g. the pinned product's flash sale is still counting down: not sold yet
                continue
            if order is not None:
                created["stream orders"] += 1
    rollups.rebuild()
