"""JSON API of orders, flash sales and coupons (mounted under /api/v1)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema, Status
from pydantic import BeforeValidator, Field, StrictBool, WithJsonSchema

from zhunong.accounts.api import decimal_field, line_pattern, text_field
from zhunong.accounts.auth import auth_required
from zhunong.catalog.errors import BelowCostWithoutReason
from zhunong.core import redaction
from zhunong.core.apidoc import responses
from zhunong.core.errors import InvalidTransition, PermissionDenied
from zhunong.core.schemas import RequestSchema
from zhunong.live.errors import StreamNotFound, StreamNotLive

from . import addresses, api_buy, selectors, services, services_checkout
from . import errors as E  # noqa: N812
from .errors import ProductUnavailable

router = Router(tags=["orders"])

ID = Field(ge=1, le=2**53)
MONEY_PATTERN = r"^-?\d+\.\d{2}$"


class LineIn(RequestSchema):
    product_id: int = Field(ge=1, le=2**53)
    # Validated by the service (1-99) so that a bad quantity gets the code `invalid_quantity`.
    quantity: int = Field(description="1-99; anything else is refused with code invalid_quantity",
                          ge=-(2**53), le=2**53, json_schema_extra={"minimum": 1, "maximum": 99})


class OrderIn(RequestSchema):
    lines: list[LineIn] = Field(min_length=1, max_length=20)
    stream_id: int | None = Field(default=None, ge=1, le=2**53)
    coupon_code: str | None = Field(default=None, max_length=16,
                                    description="a claimed coupon of the stream, used as given (refused if it does not "
                                                "fit); omitted: best_coupon decides")
    best_coupon: StrictBool = Field(default=False, description=(
        "without coupon_code: true applies the best fitting coupon the buyer claimed in the stream (the largest "
        "discount, then the earliest expiry, then the oldest claim), as the shop's pages do; false: no coupon"))
    address_id: int | None = Field(default=None, ge=1, le=2**53, description=(
        "one of the buyer's addresses (GET /me/addresses), else 404 address_not_found; omitted: the buyer's "
        "default address, when they have one (none: give it later with PUT /orders/{id}/shipping-address)"))


class LineOut(Schema):
    id: int
    product_id: int
    product_name: str
    producer_id: int
    quantity: int
    unit_price: str = Field(pattern=MONEY_PATTERN)
    line_total: str = Field(pattern=MONEY_PATTERN)
    discount_share: str = Field(pattern=MONEY_PATTERN)
    refunded_amount: str = Field(pattern=MONEY_PATTERN)
    flash_sale_id: int | None


STATUSES = Literal["reserved", "paid", "shipped", "delivered", "completed", "cancelled", "refund_requested", "refunded"]


class OrderOut(Schema):
    id: int
    number: str
    status: STATUSES
    stream_id: int | None
    subtotal: str = Field(pattern=MONEY_PATTERN)
    discount: str = Field(pattern=MONEY_PATTERN)
    total: str = Field(pattern=MONEY_PATTERN)
    refunded_total: str = Field(pattern=MONEY_PATTERN)
    currency: Literal["CNY"]
    expires_at: dt.datetime | None = Field(description="payment deadline; the reservation expires after it")
    paid_at: dt.datetime | None
    created_at: dt.datetime
    coupon_code: str | None
    lines: list[LineOut]


class TransitionOut(Schema):
    from_status: str
    to_status: str
    actor_id: int | None
    reason: str
    at: dt.datetime


class OrderDetailOut(OrderOut):
    ship_to_name: str = Field(description="收货人; empty until the buyer gives the shipping address")
    ship_to_phone: str = Field(description="11 digits for the order's buyer; anyone else who may see the order gets "
                                           "it masked (138****5678)")
    ship_to_address: str = Field(description="in full for the order's buyer; anyone else who may see the order "
                                             "gets the area only, e.g. 山东省青岛市市南区****")
    shipping_address_editable: bool = Field(
        description="whether the buyer may still give or change the address (reserved, or paid with no parcel "
                    "shipped)")
    history: list[TransitionOut] = Field(
        description="status changes; a row whose from_status equals to_status is a note without a status change "
                    "(reason `shipping address set` / `shipping address changed`)")


class OrderListOut(Schema):
    count: int
    items: list[OrderOut]


class CancelIn(RequestSchema):
    reason: str = text_field("", max_length=300)


class ShippingAddressIn(RequestSchema):
    # Lengths and formats are checked by the service so that each field gets its own error code; the
    # document states them (json_schema_extra), so a request the schema allows is never refused.
    ship_to_name: str = Field(max_length=1000, description="收货人: 1-50 characters, else 422 invalid_ship_to_name",
                              json_schema_extra={"maxLength": 50, "pattern": line_pattern(1, 50)})
    ship_to_phone: str = Field(max_length=1000, description="a mainland mobile number, 11 digits starting with 1 "
                               "(spaces, hyphens and a +86 prefix are accepted), else 422 invalid_ship_to_phone",
                               json_schema_extra={"maxLength": 40, "pattern": r"^(\+86|0086)?1[0-9]{10}$"})
    ship_to_address: str = Field(max_length=2000, description="5-200 characters, else 422 invalid_ship_to_address",
                                 json_schema_extra={"maxLength": 200, "pattern": line_pattern(5, 200)})
    save_as_default: StrictBool = Field(default=False, description="also keep it as the buyer's default address, which "
                                                             "pre-fills the address form of their next orders")


def _detail(order, viewer) -> dict:  # noqa: ANN001
    body = selectors.order_payload(order)
    body["ship_to_name"] = order.ship_to_name
    # The buyer gave the number and address; everyone else who may read the order sees only the number's end
    # and the address's area (the producer's packing slip carries both in full).
    is_buyer = viewer is not None and viewer.pk == order.buyer_id
    body["ship_to_phone"] = order.ship_to_phone if is_buyer else redaction.mask_phone(order.ship_to_phone)
    body["ship_to_address"] = order.ship_to_address if is_buyer else redaction.mask_address(order.ship_to_address)
    body["shipping_address_editable"] = addresses.is_editable(order)
    body["history"] = [{"from_status": t.from_status, "to_status": t.to_status, "actor_id": t.actor_id,
                        "reason": t.reason, "at": t.at} for t in order.history.all()]
    return body


@router.post("/orders", response=responses(
                 {201: OrderOut}, PermissionDenied, ProductUnavailable, StreamNotFound, E.CouponNotFound,
                 E.SoldOut, E.LimitExceeded, E.IdempotencyKeyReused, E.RequestInProgress, E.SaleNotStarted,
                 E.SaleNotActive, StreamNotLive, E.CouponNotApplicable, E.CouponExpired, E.CouponNotClaimed,
                 E.CouponUsed, E.CouponBelowCost, E.TooManyOpenOrders, E.HoldingCapExceeded,
                 E.IdempotencyKeyRequired, E.InvalidQuantity, E.InvalidLines, E.ProductNotInStream,
                 E.InventoryUnavailable, E.AddressNotFound),
             auth=auth_required, summary="Place an order (reserves stock)", openapi_extra={"parameters": [
                 # Required, though the handler reads it as optional: a missing key is answered with its own
                 # code (422 idempotency_key_required), not the schema's generic `invalid`.
                 {"in": "header", "name": "Idempotency-Key", "required": True,
                  "description": "1-255 printable characters (a UUID per checkout); missing, empty or malformed → "
                                 "422 idempotency_key_required",
                  "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                             "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"}}]})
def create_order(request: HttpRequest, payload: OrderIn):  # noqa: ANN201
    """Reserve stock and create an order in status `reserved`, payable until `expires_at`.

    `Idempotency-Key` makes this exactly-once: the same key with the same body returns the first
    response again (header `Idempotent-Replayed: true`); with a different body → 409
    `idempotency_key_reused`; without a usable key → 422 `idempotency_key_required`. Sold out → 409
    `sold_out`; over the per-buyer limit → 409 `limit_exceeded`.

    The same checkout path as the shop's pages (services_checkout.place_order): the order ships to
    `address_id`, else to the buyer's default address; `best_coupon` applies the best fitting claimed coupon.
    """
    stream = None
    if payload.stream_id is not None:
        stream = selectors.stream_by_id(payload.stream_id)
        if stream is None:
            raise StreamNotFound()
    order = services_checkout.place_order(
        buyer=request.auth, lines=[{"product_id": x.product_id, "quantity": x.quantity} for x in payload.lines],
        stream=stream, idempotency_key=request.headers.get("Idempotency-Key"), coupon_code=payload.coupon_code,
        best_coupon=payload.best_coupon, address_id=payload.address_id)
    # The body as first sent (stored with the idempotency record), byte-for-byte the same on replays and
    # on the purchase fast path (selectors.order_json is the one serialiser of this body).
    response = HttpResponse(selectors.order_json(order.first_response), status=201,
                            content_type="application/json")
    if order.idempotent_replay:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get("/orders", response=responses({200: OrderListOut}), auth=auth_required, summary="My orders")
def list_orders(request: HttpRequest, limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=10**6)):  # noqa: ANN201
    qs = selectors.orders_of(request.auth)
    return {"count": qs.count(), "items": [selectors.order_payload(o) for o in qs[offset:offset + limit]]}


@router.get("/orders/{order_id}", response=responses({200: OrderDetailOut}, E.OrderNotFound),
            auth=auth_required, summary="One order (its buyer, the selling side or staff over it)")
def get_order(request: HttpRequest, order_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    return _detail(selectors.order_for(request.auth, order_id), request.auth)


@router.put("/orders/{order_id}/shipping-address",
            response=responses({200: OrderDetailOut}, E.OrderNotFound, E.NotYourOrder, PermissionDenied,
                               E.ShippingAddressLocked, E.InvalidShipToName, E.InvalidShipToPhone,
                               E.InvalidShipToAddress),
            auth=auth_required, summary="Give or change the order's shipping address (its buyer)")
def put_shipping_address(request: HttpRequest, payload: ShippingAddressIn,  # noqa: ANN201
                         order_id: int = Path(..., ge=1, le=2**53)):
    """The buyer says where the order goes: 收货人, phone and address. Allowed while the order is
    `reserved` (before paying) or `paid` with no parcel shipped; later → 409 `shipping_address_locked`.

    Bad input → 422 `invalid_ship_to_name`, `invalid_ship_to_phone` or `invalid_ship_to_address`
    (`details.field` names it) and nothing changes; anyone who may see the order but is not its buyer
    → 403 `not_your_order`; anyone else → 404 `order_not_found`.
    Sending the same address again changes nothing. Answers the order as `GET /orders/{id}` does; the
    history gets a row `shipping address set` / `changed` (status unchanged). Paying does not require
    an address here (the shop's pay page does).
    """
    order = selectors.order_for(request.auth, order_id)
    addresses.set_shipping_address(order=order, actor=request.auth, name=payload.ship_to_name,
                                   phone=payload.ship_to_phone, address=payload.ship_to_address,
                                   save_as_default=payload.save_as_default)
    return _detail(selectors.order_for(request.auth, order_id), request.auth)


@router.post("/orders/{order_id}/cancel", response=responses({200: OrderOut}, E.OrderNotFound, E.NotYourOrder,
                                                              PermissionDenied, InvalidTransition),
             auth=auth_required, summary="Cancel (the buyer before paying; the seller with a reason)")
def cancel(request: HttpRequest, payload: CancelIn, order_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    order = selectors.order_for(request.auth, order_id)
    order = services.cancel_order(order=order, actor=request.auth, reason=payload.reason)
    return selectors.order_payload(order)


# ---------------------------------------------------------------------------------------------------
# flash sales

SALE_STATUSES = Literal["scheduled", "live", "sold_out", "ended", "cancelled"]


class FlashSaleIn(RequestSchema):
    product_id: int = Field(ge=1, le=2**53)
    quantity: int = Field(ge=1, le=100_000)
    sale_price: decimal_field(gt=0, le=1_000_000)  # type: ignore[valid-type]
    per_buyer_limit: int = Field(ge=1, le=99)
    countdown_seconds: int = Field(ge=10, le=300)
    duration_minutes: int = Field(ge=1, le=20)
    below_cost_reason: str = Field(default="", max_length=300)


class FlashSaleOut(Schema):
    id: int
    stream_id: int
    product_id: int
    product_name: str
    status: SALE_STATUSES
    quantity: int
    remaining: int
    sold: int
    sale_price: str = Field(pattern=MONEY_PATTERN)
    reference_price: str = Field(pattern=MONEY_PATTERN, description="lowest price of the last 30 days")
    per_buyer_limit: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    seconds_to_start: int
    seconds_left: int


class FlashSaleCancelIn(RequestSchema):
    reason: str = text_field(max_length=300, required=True)


def _stream(stream_id: int):  # noqa: ANN202
    stream = selectors.stream_by_id(stream_id)
    if stream is None:
        raise StreamNotFound()
    return stream


@router.post("/streams/{stream_id}/flash-sales", response=responses(
                 {201: FlashSaleOut}, StreamNotFound, ProductUnavailable, E.NotHostOfStream, StreamNotLive,
                 E.ProductNotPinned, E.SaleAlreadyRunning, E.InsufficientStock, E.FakeDiscount,
                 BelowCostWithoutReason),
             auth=auth_required, tags=["flash sales"], summary="The host starts a flash sale of the pinned product")
def start_flash_sale(request: HttpRequest, payload: FlashSaleIn, stream_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    stream = _stream(stream_id)
    product = selectors.product_by_id(payload.product_id)
    if product is None:
        raise ProductUnavailable()
    sale = services.start_flash_sale(
        actor=request.auth, stream=stream, product=product, quantity=payload.quantity,
        sale_price=payload.sale_price, per_buyer_limit=payload.per_buyer_limit,
        countdown_seconds=payload.countdown_seconds, duration_minutes=payload.duration_minutes,
        below_cost_reason=payload.below_cost_reason)
    return Status(201, selectors.sale_payload(sale))


@router.get("/streams/{stream_id}/flash-sales", response=responses({200: list[FlashSaleOut]}, StreamNotFound),
            auth=None,
            tags=["flash sales"], summary="Flash sales of a stream, newest first")
def stream_flash_sales(request: HttpRequest, stream_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    _stream(stream_id)
    return [selectors.sale_payload(s) for s in selectors.sales_of_stream(stream_id)[:50]]


@router.get("/flash-sales/{sale_id}", response=responses({200: FlashSaleOut}, E.FlashSaleNotFound), auth=None,
            tags=["flash sales"], summary="A flash sale: price, stock left, countdown")
def get_flash_sale(request: HttpRequest, sale_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    sale = selectors.get_sale(sale_id)
    if sale.status in ("scheduled", "live"):
        sale = services.sync_sale(sale_id=sale.pk) or sale
    return selectors.sale_payload(sale)


@router.post("/flash-sales/{sale_id}/cancel", response=responses({200: FlashSaleOut}, E.FlashSaleNotFound,
                                                                  E.NotHostOfStream, InvalidTransition),
             auth=auth_required, tags=["flash sales"], summary="The host cancels a sale")
def cancel_flash_sale(request: HttpRequest, payload: FlashSaleCancelIn, sale_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    sale = services.cancel_flash_sale(actor=request.auth, sale=selectors.get_sale(sale_id), reason=payload.reason)
    return selectors.sale_payload(sale)


# ---------------------------------------------------------------------------------------------------
# coupons


class _CouponIn(RequestSchema):
    min_spend: decimal_field(ge=0, le=1_000_000) = Decimal("0")  # type: ignore[valid-type]
    total_quantity: int = Field(ge=1, le=100_000)
    valid_minutes: int = Field(ge=1, le=1440)
    below_cost_reason: str = Field(default="", max_length=300,
                                   description="needed for the coupon to take a line below its product's cost floor")


class AmountCouponIn(_CouponIn):
    kind: Literal["amount"]
    value: decimal_field(gt=0, le=10_000,  # type: ignore[valid-type]
                         description="yuan off; below `min_spend` when that is set (else 422 invalid)")


# A whole percent, 1-90: a JSON integer, or its digits as a string (searched as JSON Schema tools do).
_PERCENT_PATTERN = "^(?:[1-9]|[1-8][0-9]|90)$"


def _whole_percent(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 10.0 is an integer in JSON Schema
    if isinstance(value, bool) or not isinstance(value, int | str) or (
            isinstance(value, str) and not re.search(_PERCENT_PATTERN, value)):
        raise ValueError("a whole percent from 1 to 90")
    return Decimal(value)


class PercentCouponIn(_CouponIn):
    kind: Literal["percent"]
    value: Annotated[Decimal, BeforeValidator(_whole_percent), Field(ge=1, le=90), WithJsonSchema({
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 90}, {"type": "string", "pattern": _PERCENT_PATTERN}],
        "description": "whole percent off, 1-90"})]


# The kind decides what the value is (the document says it with a discriminator, so no request the schema
# allows is refused for its value).
CouponIn = Annotated[AmountCouponIn | PercentCouponIn, Field(discriminator="kind")]


class CouponOut(Schema):
    id: int
    stream_id: int
    code: str
    kind: Literal["amount", "percent"]
    value: str = Field(pattern=MONEY_PATTERN)
    min_spend: str = Field(pattern=MONEY_PATTERN)
    total_quantity: int
    remaining: int
    valid_from: dt.datetime
    valid_until: dt.datetime


class ClaimOut(Schema):
    coupon: CouponOut
    claimed_at: dt.datetime


@router.post("/streams/{stream_id}/coupons", response=responses({201: CouponOut}, StreamNotFound,
                                                                 E.NotHostOfStream, StreamNotLive),
             auth=auth_required, tags=["coupons"], summary="The host releases in-room coupons")
def release_coupon(request: HttpRequest, payload: CouponIn, stream_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    coupon = services.release_coupon(actor=request.auth, stream=_stream(stream_id), kind=payload.kind,
                                     value=payload.value, min_spend=payload.min_spend,
                                     total_quantity=payload.total_quantity, valid_minutes=payload.valid_minutes,
                                     below_cost_reason=payload.below_cost_reason)
    return Status(201, selectors.coupon_payload(coupon))


@router.get("/streams/{stream_id}/coupons", response=responses({200: list[CouponOut]}, StreamNotFound), auth=None,
            tags=["coupons"], summary="Coupons that can be claimed in a stream now")
def stream_coupons(request: HttpRequest, stream_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    _stream(stream_id)
    return [selectors.coupon_payload(c) for c in selectors.open_coupons(stream_id)[:50]]


@router.post("/coupons/{coupon_id}/claim", response=responses({201: ClaimOut}, E.CouponNotFound, PermissionDenied,
                                                               E.CouponExpired, E.CouponAlreadyClaimed,
                                                               E.CouponsGone, E.CouponRefusedPublicServant,
                                                               StreamNotLive),
             auth=auth_required, tags=["coupons"], summary="Claim a coupon (one per buyer)")
def claim_coupon(request: HttpRequest, coupon_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    claim = services.claim_coupon(buyer=request.auth, coupon=selectors.get_coupon(coupon_id))
    return Status(201, {"coupon": selectors.coupon_payload(claim.coupon), "claimed_at": claim.claimed_at})


# The cart, address book and coupon wallet operations live in api_buy.py, on this router.
api_buy.register(router, order_out=OrderOut, coupon_out=CouponOut)
