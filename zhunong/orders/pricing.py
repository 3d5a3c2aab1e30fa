"""Pricing a purchase: which price and sale apply to each line, who is paid for it, what a coupon takes off.

Read-only (no writes): `services.create_order` prices here, and the purchase fast path's sale record
(hotsales.py) is derived from the same rules (`producer_for`, `selectors.open_sale`), so both paths price
alike.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.text import clean_text

from . import coupons, selectors
from .errors import (
    CouponExpired,
    CouponNotApplicable,
    CouponNotClaimed,
    CouponNotFound,
    CouponUsed,
    ProductNotInStream,
    ProductUnavailable,
    SaleNotStarted,
    SoldOut,
)
from .models import Coupon, CouponClaim, FlashSale, FlashSaleStatus

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    """To whole cents, half up (selectors.money formats amounts for JSON)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class PricedLine:
    __slots__ = ("product", "quantity", "unit_price", "sale", "producer")

    def __init__(self, product, quantity: int, unit_price: Decimal, sale: FlashSale | None, producer) -> None:  # noqa: ANN001
        self.product, self.quantity, self.unit_price, self.sale, self.producer = (
            product, quantity, unit_price, sale, producer)

    @property
    def total(self) -> Decimal:
        return round_money(self.unit_price * self.quantity)


def producer_for(product) -> Any:  # noqa: ANN001, ANN401
    """The payee of a line: the co-op if a co-op supplies the product, else its first producer."""
    producers = sorted(product.producers.all(), key=lambda p: (p.kind != "cooperative", p.pk))
    if not producers:
        raise ProductUnavailable(details={"product_id": product.pk})
    return producers[0]


# Per-process cache of what pricing reads (products, shelf, running sales), for `ORDERS_CONTEXT_CACHE_SECONDS`
# (0 = off, the default). During a flash sale thousands of attempts read the same rows; a second of staleness
# is harmless for prices and windows (stock itself is never cached: the inventory backend decides).
_context_cache: dict[tuple, tuple[float, dict]] = {}


def _catalog_context(product_ids: tuple[int, ...], stream) -> dict:  # noqa: ANN001
    ttl = getattr(settings, "ORDERS_CONTEXT_CACHE_SECONDS", 0)
    key = (product_ids, stream.pk if stream is not None else None)
    if ttl:
        hit = _context_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids, status=ListingStatus.LISTED)
                .prefetch_related("producers")}
    shelf: set[int] = set()
    sales: dict[int, FlashSale] = {}
    if stream is not None:
        shelf = set(stream.products.filter(pk__in=list(products)).values_list("pk", flat=True))
        open_sales: dict[int, list[FlashSale]] = {}
        for sale in selectors.open_sales(stream_id=stream.pk, product_id__in=list(shelf)):
            open_sales.setdefault(sale.product_id, []).append(sale)
        sales = {pid: selectors.pick_sale(candidates) for pid, candidates in open_sales.items()}
    context = {"products": products, "shelf": shelf, "sales": sales,
               "producers": {pk: producer_for(p) for pk, p in products.items()}}
    if ttl:
        if len(_context_cache) > 1000:
            _context_cache.clear()
        _context_cache[key] = (time.monotonic(), context)
    return context


def price_lines(clean: list[tuple[int, int]], stream, now: dt.datetime) -> list[PricedLine]:  # noqa: ANN001
    context = _catalog_context(tuple(sorted(pid for pid, _ in clean)), stream)
    priced = []
    for pid, qty in clean:
        product = context["products"].get(pid)
        if product is None:
            raise ProductUnavailable(details={"product_id": pid})
        sale = None
        price = product.price
        if stream is not None:
            if pid not in context["shelf"]:
                raise ProductNotInStream(details={"product_id": pid, "stream_id": stream.pk})
            sale = context["sales"].get(pid)
            if sale is not None and sale.ends_at <= now:
                sale = None
            if sale is not None:
                if now < sale.starts_at:
                    raise SaleNotStarted(details={"product_id": pid, "flash_sale_id": sale.pk,
                                                  "starts_at": sale.starts_at.isoformat()})
                # A sale known to be sold out is refused without touching stock; the naive baseline takes
                # its row lock on every attempt regardless (that is what it is there to show).
                if sale.status == FlashSaleStatus.SOLD_OUT and settings.INVENTORY_BACKEND != "naive":
                    raise SoldOut(details={"product_id": pid, "flash_sale_id": sale.pk})
                price = sale.sale_price
        priced.append(PricedLine(product, qty, price, sale, context["producers"][pid]))
    return priced


def apply_coupon(priced: list[PricedLine], *, buyer: User, stream, code: str | None,  # noqa: ANN001
                 now: dt.datetime) -> tuple[CouponClaim | None, list[Decimal]]:
    """The buyer's claim of the coupon `code` and each line's share of its discount (zeros without one)."""
    shares = [Decimal("0")] * len(priced)
    if not code:
        return None, shares
    code = clean_text(code, field="coupon_code", max_length=16).upper()
    coupon = Coupon.objects.filter(code=code).first()
    if coupon is None:
        raise CouponNotFound()
    if stream is None or coupon.stream_id != stream.pk:
        raise CouponNotApplicable("This coupon is valid only in the stream that released it.")
    if not coupon.valid_from <= now < coupon.valid_until:
        raise CouponExpired()
    claim = CouponClaim.objects.filter(coupon=coupon, buyer=buyer).first()
    if claim is None:
        raise CouponNotClaimed()
    if claim.order_id is not None:
        raise CouponUsed()
    # Every line is on this stream's shelf (checked when pricing), so the coupon covers the whole order.
    eligible = list(range(len(priced)))
    eligible_total = sum((priced[i].total for i in eligible), Decimal("0"))
    if eligible_total < coupon.min_spend:
        raise CouponNotApplicable(f"Minimum spend {coupon.min_spend} not reached.",
                                  details={"min_spend": str(coupon.min_spend), "eligible": str(eligible_total)})
    if coupon.kind == Coupon.Kind.PERCENT:
        discount = round_money(eligible_total * coupon.value / 100)
    else:
        discount = coupon.value
    # Something is always paid: a coupon never makes an order free.
    discount = min(discount, eligible_total - CENT)
    if discount <= 0:
        raise CouponNotApplicable()
    left = discount
    for n, i in enumerate(eligible):
        share = left if n == len(eligible) - 1 else round_money(discount * priced[i].total / eligible_total)
        share = min(share, priced[i].total)
        shares[i] = share
        left -= share
    coupons.check_floor(priced, shares, coupon)  # never below cost without a recorded reason
    return claim, shares
