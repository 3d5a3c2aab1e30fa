"""Reads of the cart (购物车): its lines, units and total, for the cart page, the header badge and the API.

A signed-in buyer's cart is in the database (`CartItem`); a visitor's is in their session (`SESSION_KEY`:
{product id: quantity}). The writes (add, change, remove, merge at sign-in, checkout) are in
services_cart.py (docs/decisions/0024).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product

from . import addresses
from .models import CartItem, ShippingAddress
from .pricing import round_money
from .purchase import MAX_LINES, MAX_QUANTITY

SESSION_KEY = "orders_cart"
# One checkout is one order, and an order has at most MAX_LINES lines.
MAX_ITEMS = MAX_LINES

Session = MutableMapping[str, Any]


@dataclass
class CartLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.product.price

    @property
    def line_total(self) -> Decimal:
        return round_money(self.product.price * self.quantity)

    @property
    def available(self) -> bool:
        """Listed with enough stock now (checkout checks again, under the inventory backend)."""
        return self.product.status == ListingStatus.LISTED and self.product.stock >= self.quantity


@dataclass
class CartPage:
    """What the cart page shows."""

    lines: list[CartLine]
    total: Decimal
    all_available: bool
    default_address: ShippingAddress | None


def signed_in(buyer: User | None) -> bool:
    return buyer is not None and bool(getattr(buyer, "is_authenticated", False))


def session_items(session: Session | None) -> dict[int, int]:
    """The visitor's cart as kept in the session, whatever was tampered with dropped."""
    raw = session.get(SESSION_KEY) if session is not None else None
    out: dict[int, int] = {}
    if isinstance(raw, dict):
        for pid, qty in raw.items():
            if str(pid).isdigit() and isinstance(qty, int) and 1 <= qty <= MAX_QUANTITY:
                out[int(pid)] = qty
    return out


def items(*, buyer: User | None, session: Session | None) -> list[CartLine]:
    """The cart's lines in the order they were added (products since unlisted included: the page says so)."""
    if signed_in(buyer):
        return [CartLine(product=i.product, quantity=i.quantity)
                for i in CartItem.objects.filter(buyer=buyer).select_related("product")]
    wanted = session_items(session)
    products = Product.objects.in_bulk(list(wanted))
    return [CartLine(product=products[pid], quantity=qty) for pid, qty in wanted.items() if pid in products]


def count(*, buyer: User | None, session: Session | None) -> int:
    """Units in the cart (the header's 购物车 badge)."""
    if signed_in(buyer):
        return sum(CartItem.objects.filter(buyer=buyer).values_list("quantity", flat=True))
    return sum(session_items(session).values())


def total(lines: list[CartLine]) -> Decimal:
    return sum((line.line_total for line in lines), Decimal("0.00"))


def cart_page(*, buyer: User | None, session: Session | None) -> CartPage:
    lines = items(buyer=buyer, session=session)
    return CartPage(lines=lines, total=total(lines), all_available=all(line.available for line in lines),
                    default_address=addresses.default_address(buyer) if signed_in(buyer) else None)
