"""Shipping addresses (收货地址): the one an order ships to, and the buyer's address book (several addresses,
at most one default). Checkout gives a new order the buyer's default address at once (`ship_to_default`);
the order page and the purchase sheet let the buyer pick another entry or type a new one.

The buyer gives the address (收货人, phone, address) while the order is `reserved` (before paying) or
`paid` and no parcel of it has left yet; after that the producers have copied it onto their waybills,
so a change is refused (`shipping_address_locked`). The order keeps its own copy (`Order.ship_to_*`):
changing the default later never moves a parcel.

History: giving or changing an order's address is not a status change, so it does not go through the
state machine (`services._transition`: no `order_transitioned` signal, no realtime event). It is still
written to the order's history as a *details-only* `OrderTransition` row — `from_status == to_status`
(the order's current status), reason `shipping address set` / `shipping address changed`, details
`{"event": "shipping_address", "fields": [...]}` — so the buyer and the selling side see when the
address was given or changed (order page, `GET /api/v1/orders/{id}`), as the shipments' own history
does for routing (pending → pending). The address itself is not copied into history: it lives on the
order. Readers that want only the machine's steps skip rows whose from_status equals to_status.

Writes are keyword-only and atomic, like every service; they live here rather than in services.py so
the order machine's module stays about the machine.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction

from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.text import clean_text

from .errors import (
    AddressBookFull,
    AddressNotFound,
    InvalidShipToAddress,
    InvalidShipToName,
    InvalidShipToPhone,
    NotYourOrder,
    ShippingAddressLocked,
)
from .models import Order, OrderStatus, OrderTransition, ShippingAddress
from .signals import parcels_shipped

log = logging.getLogger(__name__)

NAME_MAX = 50
ADDRESS_MIN = 5
ADDRESS_MAX = 200
# How many addresses one buyer's book holds.
BOOK_MAX = 20
# Statuses in which the buyer may still give or change the address (and only while nothing has shipped).
EDITABLE_STATUSES = (OrderStatus.RESERVED, OrderStatus.PAID)
HISTORY_EVENT = "shipping_address"

_MOBILE = re.compile(r"1[0-9]{10}")
# What people type between digit groups: spaces (any width) and hyphens.
_PHONE_SEPARATORS = re.compile(r"[\s\-]+")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    address: str

    def as_dict(self) -> dict[str, str]:
        return {"ship_to_name": self.name, "ship_to_phone": self.phone, "ship_to_address": self.address}


# ---------------------------------------------------------------------------------------------------
# validation


def clean_phone(value: object) -> str:
    """A mainland mobile number as 11 ASCII digits starting with 1.

    Accepted as typed: full-width digits (NFKC), spaces or hyphens between groups, a +86 / 0086 prefix.
    """
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidShipToPhone(details={"field": "ship_to_phone"})
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact = compact[len(prefix):]
            break
    if not _MOBILE.fullmatch(compact):
        raise InvalidShipToPhone(details={"field": "ship_to_phone"})
    return compact


def clean_address(*, name: object, phone: object, address: object) -> Address:
    """Validate the three fields (core.text rules: stripped, NFC, no control characters).

    A line break inside the address (a textarea) becomes one space: the slip prints it on one line.
    Raises invalid_ship_to_name / invalid_ship_to_phone / invalid_ship_to_address, `details.field`
    naming the input.
    """
    try:
        clean_name = clean_text(name, field="ship_to_name", max_length=NAME_MAX)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        raise InvalidShipToName(exc.message, details={"field": "ship_to_name"})
    clean_phone_ = clean_phone(phone)
    if isinstance(address, str):
        address = _LINE_BREAKS.sub(" ", address.strip())
    try:
        clean_addr = clean_text(address, field="ship_to_address", max_length=ADDRESS_MAX)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        raise InvalidShipToAddress(exc.message, details={"field": "ship_to_address"})
    if len(clean_addr) < ADDRESS_MIN:
        raise InvalidShipToAddress(f"ship_to_address: at least {ADDRESS_MIN} characters.",
                                   details={"field": "ship_to_address"})
    return Address(name=clean_name, phone=clean_phone_, address=clean_addr)


# ---------------------------------------------------------------------------------------------------
# reads


def has_address(order: Order) -> bool:
    """Whether the order can be shipped somewhere (the pay pages wait for this)."""
    return bool(order.ship_to_name and order.ship_to_phone and order.ship_to_address)


def order_address(order: Order) -> Address | None:
    if not has_address(order):
        return None
    return Address(name=order.ship_to_name, phone=order.ship_to_phone, address=order.ship_to_address)


def _shipped_parcels(order: Order, *, lock: bool = False) -> int:
    """Parcels of the order that have left (or left and then went astray), as fulfilment counts them.

    With `lock`, every parcel of the order is locked before counting: a producer shipping one right now
    either finished first (we see it shipped) or waits for us (and ships to the new address).
    """
    return sum(int(count or 0) for _receiver, count in parcels_shipped.send(sender=Order, order=order, lock=lock))


def is_editable(order: Order) -> bool:
    """Whether the buyer may still give or change the address (for pages; the service re-checks under lock)."""
    return order.status in EDITABLE_STATUSES and (order.status == OrderStatus.RESERVED or not _shipped_parcels(order))


def default_address(buyer: User) -> ShippingAddress | None:
    """The buyer's default address (the one checkout uses), or None."""
    if not getattr(buyer, "is_authenticated", False):
        return None
    return ShippingAddress.objects.filter(buyer=buyer, is_default=True).first()


def address_book(buyer: User) -> list[ShippingAddress]:
    """The buyer's addresses, the default first, then the most recently changed."""
    if not getattr(buyer, "is_authenticated", False):
        return []
    return list(ShippingAddress.objects.filter(buyer=buyer))


def book_entry(buyer: User, address_id: object) -> ShippingAddress:
    """One of the buyer's own addresses; anyone else's (or none) → 404 address_not_found."""
    try:
        pk = int(address_id)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise AddressNotFound()
    entry = ShippingAddress.objects.filter(buyer=buyer, pk=pk).first() \
        if getattr(buyer, "is_authenticated", False) else None
    if entry is None:
        raise AddressNotFound()
    return entry


def prefill(order: Order) -> dict[str, str]:
    """What the order page's address form starts with: the order's own address, else the buyer's default."""
    own = order_address(order)
    if own is not None:
        return own.as_dict()
    default = default_address(order.buyer)
    if default is not None:
        return Address(name=default.name, phone=default.phone, address=default.address).as_dict()
    return {"ship_to_name": "", "ship_to_phone": "", "ship_to_address": ""}


# ---------------------------------------------------------------------------------------------------
# writes


@transaction.atomic
def set_shipping_address(*, order: Order, actor: User | None, name: object, phone: object, address: object,
                         save_as_default: bool = False) -> Order:
    """The buyer gives (or changes) where the order goes. Only the order's buyer; only while `reserved`,
    or `paid` with no parcel shipped. Giving the same address again changes nothing and records nothing.

    With `save_as_default` the address also becomes the buyer's default (pre-fills their next orders).
    Raises not_your_order, invalid_ship_to_name / _phone / _address, shipping_address_locked.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk != order.buyer_id:
        log.info("user %s tried to set the shipping address of order %s", getattr(actor, "pk", None), order.pk)
        raise NotYourOrder("Only the order's buyer gives its shipping address.")
    clean = clean_address(name=name, phone=phone, address=address)
    # The order before its parcels, as everywhere (fulfilment's _lock_shipment, a seller's cancel), so two
    # transactions on one order never wait on each other in a cycle.
    order = Order.objects.select_for_update().get(pk=order.pk)
    shipped = _shipped_parcels(order, lock=True)
    if order.status not in EDITABLE_STATUSES or shipped:
        raise ShippingAddressLocked(details={"status": order.status, "shipped_parcels": shipped})
    before = order_address(order)
    changed = [field for field, value in clean.as_dict().items() if getattr(order, field) != value]
    if changed:
        for field, value in clean.as_dict().items():
            setattr(order, field, value)
        order.save(update_fields=[*clean.as_dict().keys(), "updated_at"])
        verb = "set" if before is None else "changed"
        OrderTransition.objects.create(order=order, from_status=order.status, to_status=order.status, actor=actor,
                                       reason=f"shipping address {verb}",
                                       details={"event": HISTORY_EVENT, "fields": changed})
        log.info("order %s: shipping address %s by its buyer (%s)", order.number, verb, ", ".join(changed))
    if save_as_default:
        _save_default(actor, clean)
    return order


@transaction.atomic
def save_default_address(*, buyer: User, name: object, phone: object, address: object) -> ShippingAddress:
    """Store the buyer's default address (one per buyer; replaces the previous one)."""
    if not getattr(buyer, "is_authenticated", False):
        raise PermissionDenied("Sign in to save an address.")
    return _save_default(buyer, clean_address(name=name, phone=phone, address=address))


def _save_default(buyer: User, clean: Address) -> ShippingAddress:
    """The address becomes the buyer's default: the same entry of the book if it is there, else a new one."""
    entry = ShippingAddress.objects.filter(buyer=buyer, name=clean.name, phone=clean.phone,
                                           address=clean.address).first()
    if entry is None:
        _check_room(buyer)
        entry = ShippingAddress.objects.create(buyer=buyer, name=clean.name, phone=clean.phone,
                                               address=clean.address)
    return _make_default(buyer, entry)


def _check_room(buyer: User) -> None:
    count = ShippingAddress.objects.filter(buyer=buyer).count()
    if count >= BOOK_MAX:
        raise AddressBookFull(details={"max": BOOK_MAX})


def _make_default(buyer: User, entry: ShippingAddress) -> ShippingAddress:
    # Lock the buyer's addresses, then clear the old default before setting the new one (one default per
    # buyer is also a database constraint).
    list(ShippingAddress.objects.select_for_update().filter(buyer=buyer).values_list("pk", flat=True))
    ShippingAddress.objects.filter(buyer=buyer, is_default=True).exclude(pk=entry.pk).update(is_default=False)
    if not entry.is_default:
        entry.is_default = True
        entry.save(update_fields=["is_default", "updated_at"])
    return entry


def _require_buyer(buyer: User) -> None:
    if not getattr(buyer, "is_authenticated", False):
        raise PermissionDenied("Sign in to keep an address book.")


@transaction.atomic
def add_address(*, buyer: User, name: object, phone: object, address: object,
                make_default: bool = False) -> ShippingAddress:
    """Add an address to the book (at most BOOK_MAX). The buyer's first address becomes the default.
    Raises invalid_ship_to_name / _phone / _address, address_book_full; nothing changes then."""
    _require_buyer(buyer)
    clean = clean_address(name=name, phone=phone, address=address)
    _check_room(buyer)
    entry = ShippingAddress.objects.create(buyer=buyer, name=clean.name, phone=clean.phone, address=clean.address)
    if make_default or not ShippingAddress.objects.filter(buyer=buyer, is_default=True).exists():
        _make_default(buyer, entry)
    return entry


@transaction.atomic
def update_address(*, buyer: User, address_id: object, name: object, phone: object, address: object,
                   make_default: bool = False) -> ShippingAddress:
    """Change one of the buyer's addresses (orders keep the copy they shipped with)."""
    _require_buyer(buyer)
    entry = book_entry(buyer, address_id)
    clean = clean_address(name=name, phone=phone, address=address)
    entry.name, entry.phone, entry.address = clean.name, clean.phone, clean.address
    entry.save(update_fields=["name", "phone", "address", "updated_at"])
    if make_default:
        _make_default(buyer, entry)
    return entry


@transaction.atomic
def set_default_address(*, buyer: User, address_id: object) -> ShippingAddress:
    _require_buyer(buyer)
    return _make_default(buyer, book_entry(buyer, address_id))


@transaction.atomic
def delete_address(*, buyer: User, address_id: object) -> None:
    """Remove an address from the book; when it was the default, the most recently changed one left takes over."""
    _require_buyer(buyer)
    entry = book_entry(buyer, address_id)
    was_default = entry.is_default
    entry.delete()
    if was_default:
        successor = ShippingAddress.objects.filter(buyer=buyer).order_by("-updated_at", "-id").first()
        if successor is not None:
            _make_default(buyer, successor)


def ship_to_entry(*, order: Order, actor: User, entry: ShippingAddress) -> Order:
    """The order ships to an address of the buyer's book (its own copy, as when typed)."""
    return set_shipping_address(order=order, actor=actor, name=entry.name, phone=entry.phone, address=entry.address)


def ship_to_default(*, order: Order, actor: User) -> Order:
    """Checkout: a new order without an address takes the buyer's default, so nobody presses save again.
    An order without a default is left as it is (the order page asks for the address)."""
    if has_address(order):
        return order
    default = default_address(actor)
    if default is None or order.buyer_id != actor.pk:
        return order
    return ship_to_entry(order=order, actor=actor, entry=default)
