"""Writes of the cart (购物车): products a buyer collects from product pages and the live room, bought in
one checkout. Reads are in selectors_cart.py.

A signed-in buyer's cart is in the database (`CartItem`, kept across sessions and devices); a visitor's is
in their session (`selectors_cart.SESSION_KEY`) and is merged into the database cart when they sign in
(`merge_session_cart`, called from the login signal in apps.py).

A cart line is always bought at the storefront price from the product's ordinary stock: checkout goes
through the one checkout path (`services_checkout.place_order`) without a stream and without a coupon, so
flash-sale prices, flash-sale stock and in-room coupons never apply to it — a flash sale is bought in its
room (purchase sheet, buy box), through the flash-sale path with its per-buyer limit
(docs/decisions/0024). Checkout creates ONE order for all lines; paid, it is split into one parcel per
producer by fulfilment as every order is.

Checkout is checked against what the buyer saw: the total shown on the cart page is sent back
(`expected_total`) and a different total now (a price changed) is refused with `price_changed`; an
unlisted product (`product_unavailable`), too little stock (`sold_out`) and the hoarding caps refuse as
for any order. Nothing changes on a refusal: the cart stays as it was, no stock is taken.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.text import clean_decimal

from . import services_checkout
from .errors import CartEmpty, CartFull, CartItemNotFound, InvalidQuantity, PriceChanged, ProductUnavailable
from .models import CartItem, IdempotencyRecord, Order
from .purchase import MAX_QUANTITY, clean_key
from .selectors_cart import MAX_ITEMS, SESSION_KEY, CartLine, Session, items, session_items, signed_in, total

log = logging.getLogger(__name__)


def _store_session(session: Session, held: dict[int, int]) -> None:
    session[SESSION_KEY] = {str(pid): qty for pid, qty in held.items()}


def _clean_quantity(quantity: object, product_id: int) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(details={"product_id": product_id, "quantity": str(quantity)[:20]})
    return quantity


def _listed_product(product_id: object) -> Product:
    if not isinstance(product_id, int) or isinstance(product_id, bool) or product_id <= 0:
        raise ProductUnavailable(details={"product_id": str(product_id)[:20]})
    product = Product.objects.filter(pk=product_id, status=ListingStatus.LISTED).first()
    if product is None:
        raise ProductUnavailable(details={"product_id": product_id})
    return product


# ---------------------------------------------------------------------------------------------------
# writes


@transaction.atomic
def add(*, buyer: User | None, session: Session | None, product_id: object, quantity: object = 1) -> CartLine:
    """Put `quantity` more of a listed product in the cart (1-99 in all per product, at most MAX_ITEMS
    products). Raises product_unavailable, invalid_quantity, cart_full; nothing changes then."""
    product = _listed_product(product_id)
    qty = _clean_quantity(quantity, product.pk)
    if signed_in(buyer):
        item = CartItem.objects.select_for_update().filter(buyer=buyer, product=product).first()
        if item is None:
            if CartItem.objects.filter(buyer=buyer).count() >= MAX_ITEMS:
                raise CartFull(details={"max_items": MAX_ITEMS})
            item = CartItem.objects.create(buyer=buyer, product=product, quantity=qty)
            return CartLine(product=product, quantity=item.quantity)
        new = _clean_quantity(item.quantity + qty, product.pk)
        CartItem.objects.filter(pk=item.pk).update(quantity=new)
        return CartLine(product=product, quantity=new)
    if session is None:
        raise CartEmpty()
    held = session_items(session)
    if product.pk not in held and len(held) >= MAX_ITEMS:
        raise CartFull(details={"max_items": MAX_ITEMS})
    held[product.pk] = _clean_quantity(held.get(product.pk, 0) + qty, product.pk)
    _store_session(session, held)
    return CartLine(product=product, quantity=held[product.pk])


@transaction.atomic
def set_quantity(*, buyer: User | None, session: Session | None, product_id: int, quantity: object) -> CartLine:
    """Change how many of a product in the cart (1-99). Raises cart_item_not_found, invalid_quantity."""
    qty = _clean_quantity(quantity, product_id)
    if signed_in(buyer):
        item = CartItem.objects.select_related("product").filter(buyer=buyer, product_id=product_id).first()
        if item is None:
            raise CartItemNotFound(details={"product_id": product_id})
        if item.quantity != qty:
            item.quantity = qty
            item.save(update_fields=["quantity", "updated_at"])
        return CartLine(product=item.product, quantity=qty)
    held = session_items(session)
    if product_id not in held or session is None:
        raise CartItemNotFound(details={"product_id": product_id})
    held[product_id] = qty
    _store_session(session, held)
    return CartLine(product=Product.objects.get(pk=product_id), quantity=qty)


@transaction.atomic
def remove(*, buyer: User | None, session: Session | None, product_id: int) -> None:
    """Take a product out of the cart. Raises cart_item_not_found."""
    if signed_in(buyer):
        deleted, _ = CartItem.objects.filter(buyer=buyer, product_id=product_id).delete()
        if not deleted:
            raise CartItemNotFound(details={"product_id": product_id})
        return
    held = session_items(session)
    if product_id not in held or session is None:
        raise CartItemNotFound(details={"product_id": product_id})
    del held[product_id]
    _store_session(session, held)


@transaction.atomic
def merge_session_cart(*, buyer: User, session: Session) -> int:
    """At sign-in: the visitor's session cart joins the buyer's database cart (quantities add up, at most 99
    per product; products unlisted meanwhile and lines beyond MAX_ITEMS are dropped). Returns the number
    of products merged; the session cart is emptied."""
    held = session_items(session)
    if not held or not signed_in(buyer):
        session.pop(SESSION_KEY, None)
        return 0
    listed = set(Product.objects.filter(pk__in=list(held), status=ListingStatus.LISTED).values_list("pk", flat=True))
    existing = {i.product_id: i for i in CartItem.objects.select_for_update().filter(buyer=buyer)}
    merged = 0
    for pid, qty in held.items():
        if pid not in listed:
            continue
        if pid in existing:
            CartItem.objects.filter(pk=existing[pid].pk).update(
                quantity=min(MAX_QUANTITY, existing[pid].quantity + qty))
        elif len(existing) < MAX_ITEMS:
            existing[pid] = CartItem.objects.create(buyer=buyer, product_id=pid, quantity=qty)
        else:
            continue
        merged += 1
    session.pop(SESSION_KEY, None)
    return merged


def on_login(sender, request, user, **kwargs) -> None:  # noqa: ANN001, ANN003
    """user_logged_in receiver: merge the session cart (a login through the API has no session to merge)."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        merge_session_cart(buyer=user, session=session)


def checkout(*, buyer: User, idempotency_key: str, expected_total: object) -> Order:
    """One order for everything in the buyer's cart, at the storefront prices it was shown at.

    `expected_total` is the total the buyer saw; if the cart costs something else now → price_changed.
    Stock, listing and hoarding caps are checked by `services.create_order` (sold_out, product_unavailable,
    too_many_open_orders, units_cap_exceeded). On success the ordered products leave the cart and the order
    gets the buyer's default address, if they have one (as every order does). On a refusal nothing changes.
    The same idempotency key again answers the same order (a double submit orders once).
    """
    key = clean_key(idempotency_key)
    done = IdempotencyRecord.objects.select_related("order").filter(buyer=buyer, key=key).first()
    if done is not None:
        # A resubmitted checkout (double click, back button): the order it made, whatever the cart holds now.
        return done.order
    lines = items(buyer=buyer, session=None)
    expected = clean_decimal(expected_total, field="expected_total", allow_zero=True)
    if not lines:
        raise CartEmpty()
    unlisted = [line.product.pk for line in lines if line.product.status != ListingStatus.LISTED]
    if unlisted:
        raise ProductUnavailable(details={"product_id": unlisted[0]})
    now_total = total(lines)
    if now_total != expected:
        raise PriceChanged(details={"expected": f"{expected:.2f}", "total": f"{now_total:.2f}"})
    order = services_checkout.place_order(
        buyer=buyer, lines=[{"product_id": line.product.pk, "quantity": line.quantity} for line in lines],
        stream=None, idempotency_key=key)
    if order.total != now_total and not getattr(order, "idempotent_replay", False):
        # A price changed between our read and the order's: the order's own prices stand, and the buyer sees
        # them on the order page before paying. Rare (same second); logged for the record.
        log.info("cart checkout %s: total %s (shown %s)", order.number, order.total, now_total)
    ordered = {line.product_id: line.quantity for line in order.lines.all()}
    for pid, qty in ordered.items():
        # Remove what was ordered; anything added meanwhile beyond it stays.
        CartItem.objects.filter(buyer=buyer, product_id=pid, quantity__lte=qty).delete()
        CartItem.objects.filter(buyer=buyer, product_id=pid, quantity__gt=qty).update(quantity=F("quantity") - qty)
    return order
