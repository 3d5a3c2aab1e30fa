"""Fulfilment's fixed rules: the deadlines (from settings), the money limit and the validators that
need no database. Side-effect free, so services and selectors can both use it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings

from .errors import BadTrackingNumber, UnknownCarrier
from .models import AfterSalesKind, AfterSalesReason, Carrier, ShipmentStatus

# The largest amount a buyer may ask back or claim in one go.
MAX_AMOUNT = Decimal("1000000")

# Photos a buyer may attach to one after-sales request (each checked by core/images.py).
MAX_AFTER_SALES_PHOTOS = 6

# Reasons that exist only before the goods leave: 拍多了/不想要 refunds the units not yet sent, with
# nothing to send back (so refund only). A parcel still being prepared counts as not shipped.
BEFORE_SHIPMENT_REASONS = frozenset({AfterSalesReason.UNWANTED})
NOT_SHIPPED = frozenset({ShipmentStatus.PENDING, ShipmentStatus.PACKED})


def reasons_for(*, shipped: bool) -> list[tuple[str, str]]:
    """The (value, label) reasons a buyer may choose for a line, shipped or not."""
    return [(v, label) for v, label in AfterSalesReason.choices if not (shipped and v in BEFORE_SHIPMENT_REASONS)]


def kinds_for(*, reason: str) -> set[str]:
    """The kinds a reason allows: a before-shipment reason is a refund only (nothing was sent)."""
    if reason in BEFORE_SHIPMENT_REASONS:
        return {AfterSalesKind.REFUND_ONLY}
    return set(AfterSalesKind.values)


# Courier waybill numbers: letters, digits and dashes (SF1234567890123, YT..., 9876543210).
_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def ship_within() -> dt.timedelta:
    """How long a producer has, from payment, to hand a parcel to the courier."""
    return dt.timedelta(hours=settings.FULFILMENT_SHIP_WITHIN_HOURS)


def auto_confirm_after() -> dt.timedelta:
    """How long after shipping an unconfirmed parcel counts as delivered."""
    return dt.timedelta(days=settings.FULFILMENT_AUTO_CONFIRM_DAYS)


def auto_complete_after() -> dt.timedelta:
    """How long after the last delivery the after-sales window stays open."""
    return dt.timedelta(days=settings.FULFILMENT_AUTO_COMPLETE_DAYS)


def clean_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    """A known courier and a well-formed waybill number (upper-cased)."""
    if carrier not in Carrier.values:
        raise UnknownCarrier(details={"field": "carrier", "allowed": list(Carrier.values)})
    number = (tracking_number or "").strip().upper() if isinstance(tracking_number, str) else ""
    if not _TRACKING.match(number):
        raise BadTrackingNumber(details={"field": "tracking_number"})
    return carrier, number
