"""JSON API of the cart, the address book and the coupon wallet (docs/api.md, docs/decisions/0024).

Registered on orders' router by `register(...)`, which api.py calls at its end with the router and the
schemas shared with it (this module imports nothing from api.py: no import cycle inside the app). The cart
here is the signed-in buyer's database cart; a visitor's session cart exists on the pages only.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StrictBool, create_model

from zhunong.accounts.api import line_pattern
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.core.schemas import RequestSchema

from . import addresses, selectors, selectors_cart, selectors_wallet, services_cart
from . import errors as E  # noqa: N812

ID = Field(ge=1, le=2**53)
MONEY_PATTERN = r"^-?\d+\.\d{2}$"
# What checkout accepts as a total: not negative, within clean_decimal's bound (99999999).
CART_TOTAL_PATTERN = r"^[0-9]{1,7}\.[0-9]{2}$"


# ---------------------------------------------------------------------------------------------------
# cart


class CartItemOut(Schema):
    product_id: int
    product_name: str
    quantity: int = Field(ge=1, le=99)
    unit_price: str = Field(pattern=MONEY_PATTERN, description="the storefront price now")
    line_total: str = Field(pattern=MONEY_PATTERN)
    available: bool = Field(description="listed, with enough stock for this quantity right now")


class CartOut(Schema):
    items: list[CartItemOut]
    count: int = Field(description="units in the cart")
    total: str = Field(pattern=MONEY_PATTERN, description="send it back as expected_total to check out")


class CartAddIn(RequestSchema):
    product_id: int = ID
    quantity: int = Field(default=1, ge=1, le=99, description="added to what the cart already holds (99 at most "
                                                              "in all, else 422 invalid_quantity)")


class CartQuantityIn(RequestSchema):
    quantity: int = Field(ge=1, le=99)


class CheckoutIn(RequestSchema):
    expected_total: str = Field(pattern=CART_TOTAL_PATTERN, max_length=16,
                                description="the cart's total as the buyer saw it; another total now → 409 "
                                            "price_changed")


def _cart(user) -> dict:  # noqa: ANN001
    lines = selectors_cart.items(buyer=user, session=None)
    return {"items": [{"product_id": line.product.pk, "product_name": line.product.name, "quantity": line.quantity,
                       "unit_price": selectors.money(line.unit_price), "line_total": selectors.money(line.line_total),
                       "available": line.available} for line in lines],
            "count": sum(line.quantity for line in lines), "total": selectors.money(selectors_cart.total(lines))}


# ---------------------------------------------------------------------------------------------------
# address book


class AddressOut(Schema):
    id: int
    name: str
    phone: str
    address: str
    is_default: bool


class AddressIn(RequestSchema):
    name: str = Field(max_length=1000, description="收货人: 1-50 characters, else 422 invalid_ship_to_name",
                      json_schema_extra={"maxLength": 50, "pattern": line_pattern(1, 50)})
    phone: str = Field(max_length=1000, description="a mainland mobile number, else 422 invalid_ship_to_phone",
                       json_schema_extra={"maxLength": 40, "pattern": r"^(\+86|0086)?1[0-9]{10}$"})
    address: str = Field(max_length=2000, description="5-200 characters, else 422 invalid_ship_to_address",
                         json_schema_extra={"maxLength": 200, "pattern": line_pattern(5, 200)})
    is_default: StrictBool = Field(default=False, description="make it the default (the first address always is)")


def _address(entry) -> dict:  # noqa: ANN001
    return {"id": entry.pk, "name": entry.name, "phone": entry.phone, "address": entry.address,
            "is_default": entry.is_default}


ADDRESS_ERRORS = (E.InvalidShipToName, E.InvalidShipToPhone, E.InvalidShipToAddress)


# ---------------------------------------------------------------------------------------------------
# coupon wallet


def register(router: Router, *, order_out: type[Schema], coupon_out: type[Schema]) -> None:  # noqa: C901
    """Declare the operations on orders' router (api.py), answering with its OrderOut and CouponOut."""

    @router.get("/cart", response=responses({200: CartOut}), auth=auth_required, tags=["cart"], summary="My cart")
    def get_cart(request: HttpRequest):  # noqa: ANN201
        return _cart(request.auth)

    @router.post("/cart/items", response=responses({200: CartOut}, E.ProductUnavailable, E.InvalidQuantity, E.CartFull),
                 auth=auth_required, tags=["cart"], summary="Put a product in the cart (adds to its quantity)")
    def add_to_cart(request: HttpRequest, payload: CartAddIn):  # noqa: ANN201
        services_cart.add(buyer=request.auth, session=None, product_id=payload.product_id, quantity=payload.quantity)
        return _cart(request.auth)

    @router.put("/cart/items/{product_id}", response=responses({200: CartOut}, E.CartItemNotFound, E.InvalidQuantity),
                auth=auth_required, tags=["cart"], summary="Change a product's quantity in the cart")
    def set_cart_quantity(request: HttpRequest, payload: CartQuantityIn, product_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
        services_cart.set_quantity(buyer=request.auth, session=None, product_id=product_id, quantity=payload.quantity)
        return _cart(request.auth)

    @router.delete("/cart/items/{product_id}", response=responses({200: CartOut}, E.CartItemNotFound),
                   auth=auth_required, tags=["cart"], summary="Take a product out of the cart")
    def remove_from_cart(request: HttpRequest, product_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
        services_cart.remove(buyer=request.auth, session=None, product_id=product_id)
        return _cart(request.auth)

    @router.post("/cart/checkout", response=responses(
                     {201: order_out}, PermissionDenied, E.CartEmpty, E.PriceChanged, E.ProductUnavailable, E.SoldOut,
                     E.InvalidQuantity, E.InvalidLines, E.IdempotencyKeyReused, E.IdempotencyKeyRequired,
                     E.TooManyOpenOrders, E.HoldingCapExceeded, E.InventoryUnavailable, E.RequestInProgress),
                 auth=auth_required, tags=["cart"], summary="One order for everything in the cart",
                 openapi_extra={"parameters": [
                     {"in": "header", "name": "Idempotency-Key", "required": True,
                      "description": "1-255 printable characters (a UUID per checkout); missing → 422 "
                                     "idempotency_key_required",
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                 "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"}}]})
    def checkout_cart(request: HttpRequest, payload: CheckoutIn):  # noqa: ANN201
        """Creates one `reserved` order at the storefront prices (no flash-sale price, no in-room coupon) and
        takes the ordered products out of the cart; the order gets the buyer's default address if they have
        one. The same Idempotency-Key again answers the same order. Refusals change nothing."""
        order = services_cart.checkout(buyer=request.auth, idempotency_key=request.headers.get("Idempotency-Key"),
                              expected_total=payload.expected_total)
        return Status(201, selectors.order_payload(order))

    @router.get("/me/addresses", response=responses({200: list[AddressOut]}), auth=auth_required, tags=["addresses"],
                summary="My address book, the default first")
    def list_addresses(request: HttpRequest):  # noqa: ANN201
        return [_address(a) for a in addresses.address_book(request.auth)]

    @router.post("/me/addresses", response=responses({201: AddressOut}, *ADDRESS_ERRORS, E.AddressBookFull),
                 auth=auth_required, tags=["addresses"], summary="Add an address")
    def add_address(request: HttpRequest, payload: AddressIn):  # noqa: ANN201
        entry = addresses.add_address(buyer=request.auth, name=payload.name, phone=payload.phone, address=payload.address,
                                      make_default=payload.is_default)
        return Status(201, _address(entry))

    @router.put("/me/addresses/{address_id}", response=responses({200: AddressOut}, E.AddressNotFound, *ADDRESS_ERRORS),
                auth=auth_required, tags=["addresses"], summary="Change an address (orders keep their own copy)")
    def update_address(request: HttpRequest, payload: AddressIn, address_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
        entry = addresses.update_address(buyer=request.auth, address_id=address_id, name=payload.name,
                                         phone=payload.phone, address=payload.address, make_default=payload.is_default)
        return _address(entry)

    @router.post("/me/addresses/{address_id}/default", response=responses({200: AddressOut}, E.AddressNotFound),
                 auth=auth_required, tags=["addresses"], summary="Make an address the default")
    def default_address(request: HttpRequest, address_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
        return _address(addresses.set_default_address(buyer=request.auth, address_id=address_id))

    @router.delete("/me/addresses/{address_id}", response=responses({204: None}, E.AddressNotFound),
                   auth=auth_required, tags=["addresses"], summary="Delete an address")
    def delete_address(request: HttpRequest, address_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
        addresses.delete_address(buyer=request.auth, address_id=address_id)
        return Status(204, None)

    # Built with create_model: its field type is a parameter (annotations are strings in this module).
    wallet_coupon_out = create_model(
        "WalletCouponOut", __base__=Schema, coupon=(coupon_out, ...), claimed_at=(dt.datetime, ...),
        state=(Literal["usable", "upcoming", "used", "expired"], ...),
        order_id=(int | None, Field(description="the order that used it")))

    @router.get("/me/coupons", response=responses({200: list[wallet_coupon_out]}), auth=auth_required,
                tags=["coupons"], summary="My claimed coupons (the wallet), newest first")
    def my_coupons(request: HttpRequest, stream_id: int | None = Query(None, ge=1, le=2**53)):  # noqa: ANN201
        return [{"coupon": selectors.coupon_payload(c.coupon), "claimed_at": c.claimed_at, "state": c.state,
                 "order_id": c.order_id} for c in selectors_wallet.wallet(request.auth, stream_id=stream_id)]
