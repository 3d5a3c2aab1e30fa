"""Demo orders for `zhunong seed_demo` (after zhunong.demo.live has a live stream with a pinned product).

- In the live demo stream: a flash sale of the pinned product (5-minute countdown, 20 minutes, 20 % below
  the lowest price of 30 days if that stays above the cost floor) and a batch of in-room coupons;
- buyer `buyer`: one order paid through the sandbox gateway (checkout → confirm → the payment applied as
  the webhook would), and one waiting for payment (it expires like any other);
- buyer `buyer-heilongjiang`: one order cancelled before paying.

All through the real services. Idempotent: orders use fixed idempotency keys (a second run gets the same
orders back), and the sale and coupons are created only if the stream has none.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.errors import DomainError
from zhunong.demo import addresses as demo_addresses
from zhunong.live.models import Stream, StreamStatus
from zhunong.live.selectors import current_pin
from zhunong.orders import flashsales, services
from zhunong.orders.models import Coupon, FlashSale, OrderStatus
from zhunong.payments import services as payments
from zhunong.payments.providers import get_provider

ORDERS = [
    # (buyer, idempotency key, what happens to it)
    ("buyer", "demo-orders-paid", "paid"),
    ("buyer", "demo-orders-waiting", "reserved"),
    ("buyer-heilongjiang", "demo-orders-cancelled", "cancelled"),
]


def seed(*, stdout: Any, dry_run: bool) -> Counter:
    created: Counter = Counter()
    products = list(Product.objects.filter(status=ListingStatus.LISTED, stock__gt=10).order_by("id")[:3])
    buyers = {u.username: u for u in User.objects.filter(username__in={b for b, _, _ in ORDERS})}
    if not products or not buyers:
        stdout.write("orders: no listed products or demo buyers; no demo orders")
        return created
    stream = Stream.objects.filter(status=StreamStatus.LIVE).select_related("host__user").order_by("id").first()
    if dry_run:
        stdout.write(f"orders: would place up to {len(ORDERS)} demo orders"
                     + (" and open a flash sale and coupons in the live stream" if stream else ""))
        return created
    if stream is not None:
        _room_offers(stream, created, stdout)
    for n, (username, key, fate) in enumerate(ORDERS):
        buyer = buyers.get(username)
        if buyer is None:
            continue
        _order(buyer, products[n % len(products)], key, fate, created)
    stdout.write("orders: " + (", ".join(f"{v} {k}" for k, v in sorted(created.items())) or "nothing new"))
    return created


def _order(buyer, product, key: str, fate: str, created: Counter) -> None:  # noqa: ANN001
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key=key, ship_to=demo_addresses.ship_to(buyer))
    if getattr(order, "idempotent_replay", False):
        return
    created["orders"] += 1
    if fate == "paid" and order.status == OrderStatus.RESERVED:
        session = payments.start_checkout(order=order, actor=buyer)
        gateway = get_provider("sandbox")
        paid = gateway.confirm(session_ref=session.session_ref)
        payments.apply_payment(session=session, amount=paid.amount, payment_ref=paid.payment_ref)
        created["payments"] += 1
    elif fate == "cancelled" and order.status == OrderStatus.RESERVED:
        services.cancel_order(order=order, actor=buyer, reason="拍错了规格")
        created["cancellations"] += 1


def _room_offers(stream, created: Counter, stdout: Any) -> None:  # noqa: ANN001
    pin = current_pin(stream)
    if pin is not None and not FlashSale.objects.filter(stream=stream).exists():
        product = pin.product
        price = (flashsales.lowest_recent_price(product, now=timezone.now()) * Decimal("0.8")).quantize(
            Decimal("0.1"), rounding=ROUND_DOWN).quantize(Decimal("0.01"))
        quantity = min(200, product.stock // 2)
        if price >= product.cost_floor and price > 0 and quantity >= 1:
            try:
                services.start_flash_sale(actor=stream.host.user, stream=stream, product=product, quantity=quantity,
                                          sale_price=price, per_buyer_limit=2, countdown_seconds=300,
                                          duration_minutes=20)
                created["flash sales"] += 1
            except DomainError as exc:
                stdout.write(f"orders: demo flash sale not started ({exc.code})")
    if not Coupon.objects.filter(stream=stream).exists():
        services.release_coupon(actor=stream.host.user, stream=stream, kind="amount", value="5", min_spend="50",
                                total_quantity=100, valid_minutes=120)
        created["coupon batches"] += 1
