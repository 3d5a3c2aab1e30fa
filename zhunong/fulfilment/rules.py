"""Fulfilment's fixed rules: the deadlines (from settings), the money limit and the validators that
need no database. Side-effect free, so services and selectors can both use it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings

from .errors import BadTrackingNumber, UnknownCarrier
from .models import Carrier

# The largest amount a buyer may ask back or claim in one go.
MAX_AMOUNT = Decimal("1000000")

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
