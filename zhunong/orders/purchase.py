"""Writing a purchase: the one function both purchase paths call to record orders in the database.

`services.create_order` (Django's path: one order, priced from the database) and the purchase fast path
(fastpath.py: many orders per transaction, priced from the sale's Redis record) both end in
`write_purchases`, inside their own transaction, after stock was taken: it records the reservations,
orders, lines, their first history row, the shipping address (the one asked for, else the buyer's default
from the address book: docs/decisions/0033), the coupon's use and the idempotency records with the 201
body, and asks for stock frames (after commit) once per sale.

Also here, being what both paths check a request with before anything is written: the Idempotency-Key,
the lines, the request fingerprint and the order number.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.models import Product
from zhunong.core.text import has_control_chars

from . import inventory
from .addresses import HISTORY_EVENT, Address
from .errors import (
    CouponUsed,
    HoldingCapExceeded,
    IdempotencyKeyRequired,
    InvalidLines,
    InvalidQuantity,
    ProductUnavailable,
    TooManyOpenOrders,
)
from .flashsales import on_stock_changed
from .models import (
    CouponClaim,
    FlashSale,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    OrderTransition,
    ShippingAddress,
)
from .selectors import order_payload

abuse_log = logging.getLogger("zhunong.abuse")

MAX_LINES = 20
MAX_QUANTITY = 99


def clean_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key.strip()) <= 255 or has_control_chars(key) \
            or not key.strip().isprintable():
        raise IdempotencyKeyRequired()
    return key.strip()


def clean_lines(lines: object) -> list[tuple[int, int]]:
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes) or not 1 <= len(lines) <= MAX_LINES:
        raise InvalidLines()
    out: list[tuple[int, int]] = []
    for line in lines:
        if isinstance(line, Mapping):
            pid, qty = line.get("product_id"), line.get("quantity")
        elif isinstance(line, Sequence) and len(line) == 2:
            pid, qty = line
        else:
            raise InvalidLines()
        if hasattr(pid, "pk"):
            pid = pid.pk
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ProductUnavailable(details={"product_id": str(pid)[:20]})
        if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_QUANTITY:
            raise InvalidQuantity(details={"product_id": pid, "quantity": str(qty)[:20]})
        out.append((pid, qty))
    if len({pid for pid, _ in out}) != len(out):
        raise InvalidLines("Each product may appear in one line only.")
    return out


def new_number() -> str:
    return "ZN" + timezone.localtime().strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


@dataclass
class LineDraft:
    """One order line to write. `product` may be None (the fast path knows only its id and name)."""

    product_id: int
    producer_id: int
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount_share: Decimal = Decimal("0")
    sale_id: int | None = None
    sale: FlashSale | None = None
    product: Any = None  # catalog.Product, when the caller has it


@dataclass
class Purchase:
    """One order to write: who, under which key and reservation, what."""

    buyer_id: int
    key: str
    fingerprint: str
    token: str
    backend: str
    stream_id: int | None
    lines: list[LineDraft]
    takes: tuple[inventory.Take, ...]
    claim: CouponClaim | None = None
    # Each pool's units left after this purchase took from it (stock frames), when the backend says.
    remaining: dict[str, int] = field(default_factory=dict)
    # Where the order goes, when the buyer said (a book entry, a typed address); None: their default, if any.
    ship_to: Address | None = None


def write_purchases(*, purchases: Sequence[Purchase], now: dt.datetime | None = None) -> list[Order]:
    """Inside the caller's transaction, after stock was taken: the reservations' records, the `reserved`
    orders and their lines, each order's first history row, the coupon claims used, and the idempotency
    records holding each order's first response (`order.first_response`). Stock frames and sell-out go
    out after commit, once per sale with its lowest count. Raises CouponUsed if a claim was used meanwhile,
    and inventory.ReservationsLost if Redis lost stock taken for them (inventory.confirm_held).
    """
    now = now or timezone.now()
    check_holding_caps(purchases=purchases, now=now)
    expires = now + dt.timedelta(minutes=settings.RESERVATION_MINUTES)
    inventory.record_reservations(reservations=[
        inventory.Reservation(token=p.token, backend=p.backend, buyer_id=p.buyer_id, takes=p.takes)
        for p in purchases])
    ship_to = _ship_to(purchases)
    orders = Order.objects.bulk_create(_order(p, expires, ship_to[i]) for i, p in enumerate(purchases))
    lines = OrderLine.objects.bulk_create(
        OrderLine(order=order, product_id=d.product_id, producer_id=d.producer_id, quantity=d.quantity,
                  unit_price=d.unit_price, line_total=d.line_total, discount_share=d.discount_share,
                  flash_sale_id=d.sale_id)
        for order, p in zip(orders, purchases, strict=True) for d in p.lines)
    for order, p in zip(orders, purchases, strict=True):
        if p.claim is not None and not CouponClaim.objects.filter(pk=p.claim.pk, order__isnull=True).update(
                order=order):
            raise CouponUsed()
    history = [OrderTransition(order=order, from_status="", to_status=OrderStatus.RESERVED, actor_id=p.buyer_id,
                               reason="order placed") for order, p in zip(orders, purchases, strict=True)]
    # The address note as addresses.set_shipping_address writes it (a details-only row, status unchanged).
    history += [OrderTransition(order=order, from_status=OrderStatus.RESERVED, to_status=OrderStatus.RESERVED,
                                actor_id=p.buyer_id, reason="shipping address set",
                                details={"event": HISTORY_EVENT, "fields": list(address.as_dict())})
                for order, p, address in zip(orders, purchases, ship_to, strict=True) if address is not None]
    OrderTransition.objects.bulk_create(history)
    _attach_lines(orders, purchases, lines)
    records = []
    for order, p in zip(orders, purchases, strict=True):
        order.first_response = order_payload(order)  # type: ignore[attr-defined]
        del order._prefetched_objects_cache  # later reads of order.lines query as usual
        order.idempotent_replay = False  # type: ignore[attr-defined]
        records.append(IdempotencyRecord(buyer_id=p.buyer_id, key=p.key, request_hash=p.fingerprint, order=order,
                                         response=order.first_response))
    IdempotencyRecord.objects.bulk_create(records)
    inventory.confirm_held(reservations=[(p.backend, p.token, p.takes) for p in purchases])
    _announce_stock(purchases)
    return orders


def check_holding_caps(*, purchases: Sequence[Purchase], now: dt.datetime) -> None:
    """Hoarding caps (docs/decisions/0010), for a purchase with a line of ordinary stock: the buyer may hold
    at most settings.MAX_OPEN_ORDERS_PER_BUYER unpaid orders (any kind, flash-sale ones included) and
    settings.MAX_UNITS_PER_PRODUCT_PER_BUYER units of one product in unpaid ordinary lines, this purchase
    included; 0 turns a cap off. Raises TooManyOpenOrders / HoldingCapExceeded (409); the caller's
    transaction rolls back and its stock is given back.

    Flash-sale lines are left to their sale's per-buyer limit (their own stock pool; the purchase fast path
    serves only them), so a purchase of flash-sale lines only is never refused here, on either path.
    Inside the caller's transaction; the buyer's row is locked so that concurrent purchases of one buyer
    are counted one after the other (PostgreSQL).
    """
    max_orders = settings.MAX_OPEN_ORDERS_PER_BUYER
    max_units = settings.MAX_UNITS_PER_PRODUCT_PER_BUYER
    for p in purchases:
        ordinary = [d for d in p.lines if d.sale_id is None]
        if not ordinary or (max_orders <= 0 and max_units <= 0):
            continue
        list(User.objects.select_for_update().filter(pk=p.buyer_id).values_list("pk", flat=True))
        unpaid = Order.objects.filter(buyer_id=p.buyer_id, status=OrderStatus.RESERVED, expires_at__gt=now)
        if max_orders > 0:
            open_orders = unpaid.count()
            if open_orders >= max_orders:
                abuse_log.info("buyer %s refused: %s open unpaid orders (cap %s)", p.buyer_id, open_orders,
                               max_orders)
                raise TooManyOpenOrders(details={"open_orders": open_orders, "max": max_orders})
        if max_units > 0:
            held = dict(OrderLine.objects.filter(order__in=unpaid, flash_sale__isnull=True,
                                                 product_id__in=[d.product_id for d in ordinary])
                        .order_by().values("product_id").annotate(n=Sum("quantity")).values_list("product_id", "n"))
            for d in ordinary:
                if held.get(d.product_id, 0) + d.quantity > max_units:
                    abuse_log.info("buyer %s refused: would hold %s + %s units of product %s (cap %s)", p.buyer_id,
                                   held.get(d.product_id, 0), d.quantity, d.product_id, max_units)
                    raise HoldingCapExceeded(details={"product_id": d.product_id, "held": held.get(d.product_id, 0),
                                                      "requested": d.quantity, "max": max_units})


def _ship_to(purchases: Sequence[Purchase]) -> list[Address | None]:
    """Each purchase's address: the one it asked for, else its buyer's default (one query for the batch),
    else None (the order page asks for it). The order keeps its own copy (docs/decisions/0024)."""
    wanting = {p.buyer_id for p in purchases if p.ship_to is None}
    defaults = {a.buyer_id: Address(name=a.name, phone=a.phone, address=a.address) for a in
                ShippingAddress.objects.filter(buyer_id__in=wanting, is_default=True)} if wanting else {}
    return [p.ship_to if p.ship_to is not None else defaults.get(p.buyer_id) for p in purchases]


def _order(p: Purchase, expires: dt.datetime, ship_to: Address | None) -> Order:
    subtotal = sum((d.line_total for d in p.lines), Decimal("0"))
    discount = sum((d.discount_share for d in p.lines), Decimal("0"))
    return Order(number=new_number(), buyer_id=p.buyer_id, stream_id=p.stream_id, subtotal=subtotal,
                 discount=discount, total=subtotal - discount, expires_at=expires,
                 coupon=p.claim.coupon if p.claim is not None else None, inventory_backend=p.backend,
                 reservation_token=p.token, **(ship_to.as_dict() if ship_to is not None else {}))


def _attach_lines(orders: list[Order], purchases: Sequence[Purchase], lines: list[OrderLine]) -> None:
    """Give each order its lines (with their products' names) without reading them back."""
    missing = {d.product_id for p in purchases for d in p.lines if d.product is None}
    products = Product.objects.only("id", "name").in_bulk(missing) if missing else {}
    it = iter(lines)
    for order, p in zip(orders, purchases, strict=True):
        own = []
        for d in p.lines:
            line = next(it)
            line.product = d.product if d.product is not None else products[d.product_id]
            own.append(line)
        order._prefetched_objects_cache = {"lines": own}


def _announce_stock(purchases: Sequence[Purchase]) -> None:
    """Stock frames and sell-out, once per sale with its lowest count, after commit. Each runs as a step
    that never raises (logged and counted): the orders are committed whatever happens there, and the
    minutely sale sweep catches a missed sell-out (docs/reliability.md)."""
    lowest: dict[int, int] = {}
    sales: dict[int, FlashSale] = {}
    for p in purchases:
        for d in p.lines:
            if d.sale_id is None:
                continue
            left = p.remaining.get(inventory.pool("sale", d.sale_id))
            if d.sale is not None:
                sales[d.sale_id] = d.sale
            if left is not None:
                lowest[d.sale_id] = min(left, lowest.get(d.sale_id, left))
    unknown = [pk for pk in lowest if pk not in sales]
    if unknown:
        sales.update(FlashSale.objects.in_bulk(unknown))
    for sale_id, left in lowest.items():
        # Called after commit, on_stock_changed's own hooks run at once, inside this step.
        transaction.on_commit(inventory.after_commit_step(
            "stock frames", partial(on_stock_changed, sale=sales[sale_id], remaining=left)))
