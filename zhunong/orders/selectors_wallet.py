"""Reads of the coupon wallet (我的优惠券), the choice of coupon at checkout and what the purchase sheet offers.

A claimed coupon sits in the buyer's wallet: `usable` (unused, within its validity), `used` (an order
holds it; a cancelled unpaid order gives it back), `expired` (unused, validity over) or `upcoming`.

Checkout needs no code: among the buyer's usable coupons of the stream being bought in, those that fit the
purchase (`pricing.apply_coupon` accepts them: the stream's own coupon, minimum spend reached, not below the
cost floor without a recorded reason) are offered, and the best is chosen unless the buyer picks another or
none. Best = the largest discount; on a tie, the one that expires first (so the other stays usable longer);
then the older claim (docs/decisions/0024). Coupons apply to flash-sale lines as to any line of the stream
(the cost-floor rule is the limit); a cart checkout has no stream, so no in-room coupon fits it. The
checkout itself (services_checkout.place_order) asks `best_code` which coupon to use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.errors import DomainError

from . import addresses, pricing
from .models import CouponClaim, ShippingAddress

STATES = ("usable", "upcoming", "used", "expired")


def claim_state(claim: CouponClaim, now: dt.datetime) -> str:
    if claim.order_id is not None:
        return "used"
    if claim.coupon.valid_until <= now:
        return "expired"
    if claim.coupon.valid_from > now:
        return "upcoming"
    return "usable"


def wallet(buyer: User, *, stream_id: int | None = None, now: dt.datetime | None = None) -> list[CouponClaim]:
    """The buyer's claims, newest first, each with `.state` (one of STATES)."""
    if not getattr(buyer, "is_authenticated", False):
        return []
    now = now or timezone.now()
    qs = CouponClaim.objects.filter(buyer=buyer).select_related("coupon__stream", "order")
    if stream_id is not None:
        qs = qs.filter(coupon__stream_id=stream_id)
    claims = list(qs[:200])
    for claim in claims:
        claim.state = claim_state(claim, now)  # type: ignore[attr-defined]
    return claims


def wallet_groups(buyer: User) -> dict[str, list[CouponClaim]]:
    """The wallet page: the buyer's claims by state, in STATES order."""
    claims = wallet(buyer)
    return {state: [c for c in claims if c.state == state] for state in STATES}


def claimed_coupon_ids(buyer: User, stream_id: int) -> list[int]:
    """Which of a stream's coupons the buyer has claimed (the room's buttons say 已领取)."""
    if not getattr(buyer, "is_authenticated", False):
        return []
    return list(CouponClaim.objects.filter(buyer=buyer, coupon__stream_id=stream_id)
                .values_list("coupon_id", flat=True))


@dataclass
class Fit:
    claim: CouponClaim
    discount: Decimal

    @property
    def code(self) -> str:
        return self.claim.coupon.code


def fitting(priced: list[pricing.PricedLine], *, buyer: User, stream, now: dt.datetime) -> list[Fit]:  # noqa: ANN001
    """The buyer's usable coupons that fit these priced lines in `stream`, best first."""
    if stream is None or not getattr(buyer, "is_authenticated", False) or not priced:
        return []
    claims = (CouponClaim.objects.filter(buyer=buyer, order__isnull=True, coupon__stream_id=stream.pk,
                                         coupon__valid_from__lte=now, coupon__valid_until__gt=now)
              .select_related("coupon"))
    fits = []
    for claim in claims:
        try:
            _claim, shares = pricing.apply_coupon(priced, buyer=buyer, stream=stream, code=claim.coupon.code, now=now)
        except DomainError:
            continue
        fits.append(Fit(claim=claim, discount=sum(shares, Decimal("0"))))
    fits.sort(key=lambda f: (-f.discount, f.claim.coupon.valid_until, f.claim.claimed_at, f.claim.pk))
    return fits


@dataclass
class Quote:
    """What a purchase costs with the chosen coupon (the purchase sheet and the buy box show it)."""

    priced: list[pricing.PricedLine]
    fits: list[Fit]
    chosen: Fit | None

    @property
    def subtotal(self) -> Decimal:
        return sum((p.total for p in self.priced), Decimal("0.00"))

    @property
    def discount(self) -> Decimal:
        return self.chosen.discount if self.chosen is not None else Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


def quote(*, buyer: User, lines: list[tuple[int, int]], stream, coupon: str = "auto",  # noqa: ANN001
          now: dt.datetime | None = None) -> Quote:
    """Price the lines (raises as create_order would: sold_out, sale_not_started, product_unavailable, ...)
    and choose the coupon: `auto` = the best that fits, `none` = no coupon, else the code if it fits
    (a code that does not fit falls back to the best)."""
    now = now or timezone.now()
    priced = pricing.price_lines(lines, stream, now)
    fits = fitting(priced, buyer=buyer, stream=stream, now=now)
    chosen = None
    if coupon != "none" and fits:
        chosen = next((f for f in fits if f.code == (coupon or "").upper()), fits[0])
    return Quote(priced=priced, fits=fits, chosen=chosen)


def best_code(*, buyer: User, lines: list[tuple[int, int]], stream) -> str | None:  # noqa: ANN001
    """The code of the best fitting claimed coupon for this purchase, or None (none fits, no stream, or the
    lines cannot be priced: the order's creation then answers that refusal itself)."""
    if stream is None:
        return None
    try:
        chosen = quote(buyer=buyer, lines=lines, stream=stream).chosen
    except DomainError:
        return None
    return chosen.code if chosen is not None else None


@dataclass
class SheetOffer:
    """What the purchase sheet shows a signed-in buyer: the price with the chosen coupon (or why it cannot be
    priced) and their address book."""

    quote: Quote | None
    refusal: DomainError | None
    book: list[ShippingAddress]

    @property
    def sale(self):  # noqa: ANN201
        return self.quote.priced[0].sale if self.quote is not None else None


def sheet_offer(*, buyer: User, product_id: int, quantity: int, stream, coupon: str) -> SheetOffer:  # noqa: ANN001
    try:
        offer, refusal = quote(buyer=buyer, lines=[(product_id, quantity)], stream=stream, coupon=coupon), None
    except DomainError as exc:
        offer, refusal = None, exc
    return SheetOffer(quote=offer, refusal=refusal, book=addresses.address_book(buyer))
