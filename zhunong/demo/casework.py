"""Demo casework for `zhunong seed_demo`: what waits for someone's decision in the main demo county (安化县).

The other demo seeders leave every story finished (orders reviewed, the one after-sales request refunded).
A county office's day is the open cases, so the demo also has, all through the real services:

- a compensation pledge (先行赔付) in the live stream, paid from the platform's fund because its host is a
  public servant, and three buyers' claims against it: one just submitted, one under review, one upheld and
  waiting to be paid; `buyer` has a paid order in the stream too, not yet claimed on;
- `buyer`'s after-sales requests awaiting the co-op's decision (two asked, one approved and not refunded);
- a complaint about a late parcel, still open;
- two of `buyer`'s parcels on their way (shipped, waiting for the buyer to confirm delivery), and one
  delivered that the buyer has not reviewed yet;
- a public servant's stream scheduled for next week, waiting for the discipline office's approval, and the
  villager host live in the co-op's workshop (a second live stream, whose room takes gifts);
- an integrity flag (a workplace told to buy tea: 摊派), open, and the notifications it and the orders send
  (unread) to the operator, the discipline office, the co-op and the buyer.

These are also the objects the API's operations on cases need (issue 17: schemathesis as each role reaches
them through .ci/schemathesis_ids.py). Idempotent: orders use fixed idempotency keys and every case is made
only when its kind is missing, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.demo import addresses as demo_addresses
from zhunong.fulfilment.models import (
    AfterSalesRequest,
    AfterSalesStatus,
    ClaimStatus,
    Complaint,
    Pledge,
    PledgeClaim,
    PledgeFunding,
    Shipment,
    ShipmentStatus,
)
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import complaints as complaint_services
from zhunong.fulfilment.services import pledges as pledge_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.live import streams as live_streams
from zhunong.live.models import Host, Stream, StreamStatus
from zhunong.notifications import services as notifications
from zhunong.notifications.kinds import Kind
from zhunong.orders import services as orders
from zhunong.orders.models import FlashSale, Order, OrderStatus
from zhunong.producers.models import Region
from zhunong.supervision import services as supervision
from zhunong.supervision.models import IntegrityFlag

MAIN_COUNTY_CODE = "430923"  # 安化县 (zhunong.demo.world)

# (buyer, claim amount, what the county office has done so far, the buyer's words)
CLAIMS = [
    ("buyer-shanghai", "20.00", ClaimStatus.SUBMITTED, "直播间说是明前茶，收到的饼上印的是秋茶，请按承诺先行赔付。"),
    ("buyer-heilongjiang", "30.00", ClaimStatus.UNDER_REVIEW, "茶饼到货时边角碎了一块，已拍照留证。"),
    ("buyer-shanghai", "15.00", ClaimStatus.UPHELD, "主播承诺的赠品没有随货发出。"),
]
# (idempotency key, after-sales reason, evidence, what the co-op has done so far)
AFTER_SALES = [
    ("demo-casework-as-1", "damaged", "茯砖茶外包装压坏，砖面有裂口，附开箱照片。", AfterSalesStatus.REQUESTED),
    ("demo-casework-as-2", "not_as_described", "详情页写一千克，称重只有九百六十克。", AfterSalesStatus.REQUESTED),
    ("demo-casework-as-3", "quality", "茶汤浑浊，有霉味，不敢喝。", AfterSalesStatus.APPROVED),
]
# Parcels shipped to `buyer`: (idempotency key, carrier, tracking number, delivery confirmed).
IN_TRANSIT = [("demo-casework-ship-1", "sf", "SF1300200701", False), ("demo-casework-ship-2", "ems", "1180020200702", False),
              ("demo-casework-ship-3", "zto", "ZT7300200703", True)]


def _paid_order(buyer: User, product: Product, key: str, *, stream: Stream | None = None) -> Order:
    """An order placed and paid (as the webhook would record it), found again by its idempotency key."""
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                idempotency_key=key, stream=stream, ship_to=demo_addresses.ship_to(buyer))
    if order.status == OrderStatus.RESERVED:
        orders.mark_paid(order=order, amount=order.total, payment_ref=f"pi_{key.replace('-', '_')}")  # shaped like a gateway id (the order history shows it)
        order.refresh_from_db()
    if order.status == OrderStatus.PAID and not order.shipments.exists():
        shipment_services.route_order(order=order)
    return order


def _pledge(operator: User, stream: Stream, users: dict[str, User], created: Counter) -> None:
    pledge = Pledge.objects.filter(stream=stream).order_by("pk").first()
    if pledge is None:
        funded_by = PledgeFunding.PLATFORM_FUND if stream.host.is_public_servant else PledgeFunding.HOST
        pledge = pledge_services.create_pledge(
            actor=operator, stream=stream, funded_by=funded_by, max_per_claim=Decimal("50.00"),
            total_cap=Decimal("2000.00"),
            terms="货不对板、破损或承诺的赠品未发，经县商务局核实后先行赔付，每单最高50元。")
        created["pledges"] += 1
    # Not the flash sale's product: its price and start time are the sale's (it may still be counting down).
    shelf = list(stream.products.filter(status=ListingStatus.LISTED, stock__gt=10)
                 .exclude(pk__in=FlashSale.objects.filter(stream=stream).values("product_id")).order_by("pk"))
    if not shelf:
        return
    office = User.objects.filter(groups__name=roles.COUNTY_OPERATOR, region=stream.channel.county).order_by("pk")
    decider = office.first()
    for n, (username, amount, reached, text) in enumerate(CLAIMS):
        buyer = users.get(username)
        if buyer is None or decider is None:
            continue
        order = _paid_order(buyer, shelf[n % len(shelf)], f"demo-casework-claim-{n + 1}", stream=stream)
        if order.status != OrderStatus.PAID or PledgeClaim.objects.filter(pledge=pledge, order=order).exists():
            continue
        claim = pledge_services.submit_claim(actor=buyer, pledge=pledge, order=order, amount=Decimal(amount), text=text)
        if reached in (ClaimStatus.UNDER_REVIEW, ClaimStatus.UPHELD):
            claim = pledge_services.start_claim_review(actor=decider, claim=claim)
        if reached == ClaimStatus.UPHELD:
            pledge_services.decide_claim(actor=decider, claim=claim, upheld=True,
                                         reason="主播在直播中承诺随单赠送茶针，发货记录里没有，属实。")
        created["pledge claims"] += 1
    # `buyer` bought in the stream too; their claim is theirs to make.
    if "buyer" in users:
        _paid_order(users["buyer"], shelf[0], "demo-casework-claimable", stream=stream)


def _after_sales(buyer: User, products: list[Product], coop: User | None, created: Counter) -> list[Order]:
    placed = []
    for n, (key, reason, evidence, reached) in enumerate(AFTER_SALES):
        order = _paid_order(buyer, products[n % len(products)], key)
        placed.append(order)
        line = order.lines.first()
        if order.status != OrderStatus.PAID or AfterSalesRequest.objects.filter(line=line).exists():
            continue
        request = after_sales_services.request_after_sales(actor=buyer, line=line, kind="refund_only", reason=reason,
                                                           evidence=evidence, amount=None)
        if reached == AfterSalesStatus.APPROVED and coop is not None:
            after_sales_services.approve_after_sales(actor=coop, request=request, refund_now=False,
                                                     note="情况属实，退款将在核对库存后发起。")
        created["after-sales requests"] += 1
    return placed


def _in_transit(buyer: User, products: list[Product], created: Counter) -> list[Order]:
    placed = []
    for n, (key, carrier, tracking, delivered) in enumerate(IN_TRANSIT):
        order = _paid_order(buyer, products[(n + 1) % len(products)], key)
        placed.append(order)
        for shipment in order.shipments.select_related("producer"):
            manager = shipment.producer.managers.order_by("pk").first()
            if manager is not None and shipment.status in (ShipmentStatus.PENDING, ShipmentStatus.PACKED):
                shipment = shipment_services.ship_shipment(actor=manager, shipment=shipment, carrier=carrier,
                                                           tracking_number=tracking)
                created["parcels shipped"] += 1
            if delivered and shipment.status == ShipmentStatus.SHIPPED:
                shipment_services.confirm_delivery(actor=buyer, shipment=shipment)
    return placed


def _complaint(buyer: User, products: list[Product], created: Counter) -> list[Order]:
    order = _paid_order(buyer, products[-1], "demo-casework-complaint")
    if order.status == OrderStatus.PAID and not Complaint.objects.filter(order=order).exists():
        complaint_services.file_complaint(actor=buyer, order=order, category="delivery",
                                          text="下单四天了还显示待发货，客服说合作社在等新茶压饼。")
        created["complaints"] += 1
    return [order]


def _approval_waiting(operator: User, county: Region, products: list[Product], created: Counter) -> None:
    """A public servant's stream next week, which needs the discipline office's approval to go live."""
    host = (Host.objects.filter(channel__county=county, is_public_servant=True, verified_at__isnull=False)
            .exclude(user__username="host").order_by("pk").first())
    if host is None or Stream.objects.filter(host=host, status=StreamStatus.SCHEDULED).exists():
        return
    start = (timezone.localtime() + dt.timedelta(days=7)).replace(hour=19, minute=30, second=0, microsecond=0)
    live_streams.schedule_stream(actor=operator, host=host, title="安化黑茶助农专场：县领导讲茶乡振兴",
                                 planned_start=start, planned_end=start + dt.timedelta(hours=2), products=products,
                                 description="挂职副县长介绍黑茶产业，公益直播，不取报酬。")
    created["streams awaiting approval"] += 1


def _second_live(operator: User, county: Region, products: list[Product], created: Counter) -> None:
    """The villager host live too, in the co-op's workshop: a stream that is not a public servant's, so its
    room takes gifts (the first secretary's does not)."""
    host = (Host.objects.filter(channel__county=county, is_public_servant=False, verified_at__isnull=False)
            .order_by("pk").first())
    if host is None or Stream.objects.filter(host=host, status=StreamStatus.LIVE).exists():
        return
    now = timezone.now()
    stream = live_streams.schedule_stream(actor=operator, host=host, title="茯砖茶作坊：看合作社压砖",
                                          planned_start=now - dt.timedelta(minutes=10),
                                          planned_end=now + dt.timedelta(hours=2), products=products,
                                          description="村民主播在合作社作坊直播压制茯砖茶，边做边卖。")
    live_streams.start_stream(stream=stream, actor=host.user)
    created["live streams"] += 1


def _flag(county: Region, created: Counter) -> None:
    if IntegrityFlag.objects.filter(region=county, status=IntegrityFlag.Status.OPEN).exists():
        return
    flag = supervision.raise_flag(
        kind=IntegrityFlag.Kind.QUOTA, region=county,
        summary="群众反映：某镇要求机关干部每人认购两饼直播间的千两茶，按人头报数。",
        details={"source": "12345 热线转办", "demo": True})
    notifications.emit(kind=Kind.INTEGRITY_FLAG, subject_id=flag.pk)
    created["integrity flags"] += 1


def _notify(placed: list[Order], created: Counter) -> None:
    """What the orders above tell their buyer and the co-op (the worker sends these in a running county);
    emitting an event again changes nothing."""
    made = 0
    for order in placed:
        made += len(notifications.emit(kind=Kind.PAYMENT_CONFIRMED, subject_id=order.pk))
        for shipment in Shipment.objects.filter(order=order).order_by("pk"):
            kind = Kind.NEW_ORDER_TO_SHIP if shipment.status == ShipmentStatus.PENDING else Kind.SHIPPED
            made += len(notifications.emit(kind=kind, subject_id=shipment.pk))
    if made:
        created["notifications"] += made


def seed(*, stdout: Any, dry_run: bool) -> Counter:
    """Open the demo county's cases (see the module docstring); the caller's transaction handles --dry-run."""
    created: Counter = Counter()
    county = Region.objects.filter(code=MAIN_COUNTY_CODE).first()
    operator = User.objects.filter(groups__name=roles.COUNTY_OPERATOR, region=county).order_by("pk").first()
    users = {u.username: u for u in User.objects.filter(username__in={"buyer", "buyer-shanghai", "buyer-heilongjiang"})}
    coop = User.objects.filter(username="coop").first()
    buyer = users.get("buyer")
    products = list(Product.objects.filter(status=ListingStatus.LISTED, stock__gt=10, producers__managers=coop)
                    .distinct().order_by("pk")[:3]) if coop else []
    stream = (Stream.objects.filter(status=StreamStatus.LIVE, channel__county=county).select_related("host", "channel")
              .order_by("pk").first())
    if county is None or operator is None or buyer is None or not products:
        stdout.write("casework: the main demo county, its operator, `buyer` or the co-op's products are missing")
        return created
    if stream is not None:
        _pledge(operator, stream, users, created)
    placed = _after_sales(buyer, products, coop, created)
    placed += _in_transit(buyer, products, created)
    placed += _complaint(buyer, products, created)
    _approval_waiting(operator, county, products, created)
    _second_live(operator, county, products, created)
    _flag(county, created)
    _notify(placed, created)
    verb = "would open" if dry_run else "opened"
    stdout.write("casework: " + (f"{verb} " + ", ".join(f"{n} {what}" for what, n in created.items())
                                 if created else "open cases present"))
    return created
