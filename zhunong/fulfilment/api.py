"""JSON API of fulfilment and after-sales (mounted under /api/v1 by zhunong/api.py).

Producers: list their parcels, pack, ship (courier + waybill), report a problem. Buyers: see parcels,
confirm delivery, ask for a refund, complain, review a delivered line, claim against a host pledge.
County staff: decide after-sales requests, handle complaints and pledge claims. Every error is
`{"code", "message", "details"}` with a stable code.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from django.urls import reverse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StrictBool

from zhunong.accounts import policy
from zhunong.accounts.api import Id, decimal_field, text_field
from zhunong.accounts.auth import auth_required
from zhunong.catalog.errors import ProductNotFound
from zhunong.core import redaction
from zhunong.core.apidoc import responses
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.core.images import ImageRefused
from zhunong.core.schemas import RequestSchema
from zhunong.live.errors import StreamNotFound
from zhunong.orders.errors import NotYourOrder, OrderNotFound, ProductNotInStream, RefundExceedsPaid
from zhunong.payments.errors import GatewayError

from . import errors as E  # noqa: N812
from . import selectors
from .errors import (
    AfterSalesNotFound,
    ClaimNotFound,
    ComplaintNotFound,
    LineNotFound,
    NotYourShipment,
    ShipmentNotFound,
    not_your_order,
)
from .models import (
    AfterSalesKind,
    AfterSalesReason,
    AfterSalesRequest,
    Carrier,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Pledge,
    PledgeClaim,
    PledgeFunding,
    Review,
    Shipment,
    ShipmentStatus,
)
from .services import after_sales as after_sales_services
from .services import complaints as complaint_services
from .services import pledges as pledge_services
from .services import reviews as review_services
from .services import shipments as shipment_services

router = Router(tags=["fulfilment"])
abuse_log = logging.getLogger("zhunong.abuse")

Money = decimal_field(gt=0, le=1_000_000)

ShipmentStatusLit = Literal["pending", "packed", "shipped", "delivered", "exception", "cancelled"]
CarrierLit = Literal["sf", "ems", "yto", "zto", "sto", "yunda", "jd", "jt", "other"]
KindLit = Literal["refund_only", "return_refund"]
ReasonLit = Literal["quality", "damaged", "late", "wrong_item", "over_packaged", "not_as_described", "unwanted",
                    "other"]
CategoryLit = Literal["quality", "delivery", "packaging", "after_sales", "host", "other"]
ComplaintStatusLit = Literal["open", "in_progress", "resolved", "dismissed"]
FundingLit = Literal["host", "platform_fund"]

# Keep the Literal lists and the model choices in step (checked at import, so a drift fails loudly).
for _lit, _choices in ((ShipmentStatusLit, ShipmentStatus), (CarrierLit, Carrier), (KindLit, AfterSalesKind),
                       (ReasonLit, AfterSalesReason), (CategoryLit, ComplaintCategory),
                       (ComplaintStatusLit, ComplaintStatus), (FundingLit, PledgeFunding)):
    assert set(_lit.__args__) == set(_choices.values), _choices


# ---------------------------------------------------------------- schemas


class ShipmentItemOut(Schema):
    order_line_id: int
    product_id: int
    product_name: str
    quantity: int


class ShipmentOut(Schema):
    id: int
    order_id: int
    order_number: str
    producer_id: int
    producer_name: str
    status: ShipmentStatusLit
    ship_from: str
    ship_to_name: str
    ship_to_phone: str = Field(description="Masked (138****5678); only the printed packing slip shows it in full, for the waybill.")
    ship_to_address: str
    carrier: CarrierLit | None
    tracking_number: str
    deadline: dt.datetime
    late: bool
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    items: list[ShipmentItemOut]


class ShipmentShipIn(RequestSchema):
    carrier: CarrierLit
    tracking_number: str = Field(pattern=r"^[A-Za-z0-9-]{6,40}$", description="The waybill number: 6-40 letters, "
                                 "digits or dashes; one number per parcel and courier.")


class ShipmentExceptionIn(RequestSchema):
    reason: str = text_field(max_length=300, required=True)


class AfterSalesIn(RequestSchema):
    order_line_id: Id
    kind: KindLit
    reason: ReasonLit
    evidence: str = text_field(max_length=1000, required=True, multiline=True,
                               description="What is wrong; photos are described here.")
    amount: Money | None = Field(default=None, description="Default: everything still refundable on the line.")


class AfterSalesPhotoOut(Schema):
    id: int
    url: str = Field(description="The photo (WebP, longest side at most 1920 px) for the buyer and whoever "
                     "decides the request; a signed-in page URL, not under /api.")
    thumbnail_url: str = Field(description="A WebP thumbnail, at most 320 px a side.")
    width: int
    height: int


class AfterSalesOut(Schema):
    id: int
    order_id: int
    order_line_id: int
    product_name: str
    kind: KindLit
    reason: ReasonLit
    evidence: str
    amount: str
    status: Literal["requested", "approved", "rejected", "refunded"]
    decision_note: str
    created_at: dt.datetime
    refunded_at: dt.datetime | None
    photos: list[AfterSalesPhotoOut]


class AfterSalesApproveIn(RequestSchema):
    note: str = text_field("", max_length=300)
    refund_now: StrictBool = Field(default=True, description="Approve and refund in one step.")


class AfterSalesRejectIn(RequestSchema):
    note: str = text_field(max_length=300, required=True)


class ComplaintIn(RequestSchema):
    order_id: Id
    order_line_id: Id | None = None
    category: CategoryLit
    text: str = text_field(max_length=2000, required=True, multiline=True)


class ComplaintOut(Schema):
    id: int
    order_id: int
    order_line_id: int | None
    producer_id: int | None
    region_id: int
    category: CategoryLit
    text: str
    status: ComplaintStatusLit
    resolution: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ComplaintStatusIn(RequestSchema):
    status: ComplaintStatusLit
    note: str = text_field("", max_length=500, multiline=True)


class ReviewIn(RequestSchema):
    order_line_id: Id
    rating: int = Field(ge=1, le=5)
    text: str = text_field("", max_length=500, multiline=True)


class ReviewOut(Schema):
    id: int
    product_id: int
    rating: int
    text: str
    reviewer: str = Field(description="Masked display name.")
    created_at: dt.datetime


class ReviewListOut(Schema):
    product_id: int
    count: int
    average: str | None
    histogram: dict[str, int]
    reviews: list[ReviewOut]


class PledgeIn(RequestSchema):
    terms: str = text_field(max_length=300, required=True)
    max_per_claim: Money
    funded_by: FundingLit
    product_id: Id | None = None
    total_cap: Money | None = None


class PledgeOut(Schema):
    id: int
    stream_id: int
    host_id: int
    product_id: int | None
    terms: str
    max_per_claim: str
    total_cap: str | None
    funded_by: FundingLit
    created_at: dt.datetime


class PledgeClaimIn(RequestSchema):
    order_id: Id
    amount: Money
    text: str = text_field(max_length=1000, required=True, multiline=True)


class PledgeClaimOut(Schema):
    id: int
    pledge_id: int
    order_id: int
    amount: str
    text: str
    status: Literal["submitted", "under_review", "upheld", "rejected", "compensated"]
    decision_reason: str
    compensated_amount: str | None
    paid_from: FundingLit | None
    compensation_ref: str
    created_at: dt.datetime


class PledgeClaimDecisionIn(RequestSchema):
    upheld: StrictBool
    reason: str = text_field(max_length=500, required=True, multiline=True)


class PledgeCompensationIn(RequestSchema):
    amount: Money
    reference: str = text_field(max_length=64, required=True, description="The transfer's reference number.")


class FulfilmentPage(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ShipmentFilter(FulfilmentPage):
    status: ShipmentStatusLit | None = None
    late: bool | None = None


# ---------------------------------------------------------------- serialisers


def _shipment_out(s: Shipment) -> dict:
    order = s.order
    return {
        "id": s.pk, "order_id": order.pk, "order_number": order.number, "producer_id": s.producer_id,
        "producer_name": s.producer.name, "status": s.status, "ship_from": s.ship_from,
        "ship_to_name": order.ship_to_name, "ship_to_phone": redaction.mask_phone(order.ship_to_phone),
        "ship_to_address": order.ship_to_address, "carrier": s.carrier or None,
        "tracking_number": s.tracking_number, "deadline": s.deadline, "late": s.late, "shipped_at": s.shipped_at,
        "delivered_at": s.delivered_at,
        "items": [{"order_line_id": i.line_id, "product_id": i.line.product_id, "product_name": i.line.product.name,
                   "quantity": i.quantity} for i in s.items.all()],
    }


def _after_sales_out(r: AfterSalesRequest) -> dict:
    return {"id": r.pk, "order_id": r.order_id, "order_line_id": r.line_id, "product_name": r.line.product.name,
            "kind": r.kind, "reason": r.reason, "evidence": r.evidence, "amount": str(r.amount), "status": r.status,
            "decision_note": r.decision_note, "created_at": r.created_at, "refunded_at": r.refunded_at,
            "photos": [_photo_out(p) for p in r.photos.all()]}


def _photo_out(p) -> dict:  # noqa: ANN001
    return {"id": p.pk, "url": reverse("fulfilment:after_sales_photo", args=[p.pk, "full"]),
            "thumbnail_url": reverse("fulfilment:after_sales_photo", args=[p.pk, "thumb"]),
            "width": p.width, "height": p.height}


def _complaint_out(c: Complaint) -> dict:
    return {"id": c.pk, "order_id": c.order_id, "order_line_id": c.line_id, "producer_id": c.producer_id,
            "region_id": c.region_id, "category": c.category, "text": c.text, "status": c.status,
            "resolution": c.resolution, "created_at": c.created_at, "updated_at": c.updated_at}


def _review_out(r: Review) -> dict:
    return {"id": r.pk, "product_id": r.product_id, "rating": r.rating, "text": r.text,
            "reviewer": redaction.mask_name(r.buyer.display_name or r.buyer.username) or "匿名", "created_at": r.created_at}


def _pledge_out(p: Pledge) -> dict:
    return {"id": p.pk, "stream_id": p.stream_id, "host_id": p.host_id, "product_id": p.product_id,
            "terms": p.terms, "max_per_claim": str(p.max_per_claim),
            "total_cap": None if p.total_cap is None else str(p.total_cap), "funded_by": p.funded_by,
            "created_at": p.created_at}


def _claim_out(c: PledgeClaim) -> dict:
    return {"id": c.pk, "pledge_id": c.pledge_id, "order_id": c.order_id, "amount": str(c.amount), "text": c.text,
            "status": c.status, "decision_reason": c.decision_reason,
            "compensated_amount": None if c.compensated_amount is None else str(c.compensated_amount),
            "paid_from": c.paid_from or None, "compensation_ref": c.compensation_ref, "created_at": c.created_at}


# ---------------------------------------------------------------- lookups


# An object outside the caller's reach answers 404, as an unknown id does (docs/api.md), so sequential ids
# reveal nothing; an object the caller may see but not act on answers 403 (the services decide that).


def _outside(user, what: str) -> None:  # noqa: ANN001
    """Log a lookup of an object the caller may not see (answered 404, as if it did not exist)."""
    abuse_log.info("user %s asked for %s outside their reach", getattr(user, "pk", None), what)


def _reaches_order(order, user) -> bool:  # noqa: ANN001
    """The order's buyer, whoever may view it (accounts.policy `order.view`), and whoever handles one of its
    parcels (a co-op manager packing for a member household)."""
    return (order.buyer_id == user.pk or policy.can(user, "order.view", order)
            or selectors.shipments_for(user).filter(order_id=order.pk).exists())


def _reachable_order(order_id: int, user):  # noqa: ANN001, ANN202
    order = selectors.get_order(order_id)
    if not _reaches_order(order, user):
        _outside(user, "an order")
        raise OrderNotFound()
    return order


def _own_order(order_id: int, user):  # noqa: ANN001, ANN202
    order = _reachable_order(order_id, user)
    if order.buyer_id != user.pk:
        raise not_your_order()
    return order


def _own_line(line_id: int, user):  # noqa: ANN001, ANN202
    line = selectors.get_line(line_id)
    if line.order.buyer_id != user.pk:
        if not _reaches_order(line.order, user):
            _outside(user, "an order line")
            raise LineNotFound()
        raise not_your_order()
    return line


def _reachable_shipment(shipment_id: int, user) -> Shipment:  # noqa: ANN001
    """The parcel if the caller is its buyer or it is in their back-office scope; else 404."""
    shipment = selectors.get_shipment(shipment_id)
    if shipment.order.buyer_id != user.pk and not selectors.shipments_for(user).filter(pk=shipment.pk).exists():
        _outside(user, "a shipment")
        raise ShipmentNotFound()
    return shipment


def _visible_shipment(shipment_id: int, user) -> Shipment:  # noqa: ANN001
    shipment = _reachable_shipment(shipment_id, user)
    if shipment.order.buyer_id != user.pk and not policy.can(user, "shipment.handle", shipment.producer):
        raise NotYourShipment()
    return shipment


def _reachable_after_sales(request_id: int, user) -> AfterSalesRequest:  # noqa: ANN001
    req = selectors.get_after_sales(request_id)
    if req.buyer_id != user.pk and not selectors.after_sales_for(user).filter(pk=req.pk).exists():
        _outside(user, "an after-sales request")
        raise AfterSalesNotFound()
    return req


def _reachable_complaint(complaint_id: int, user) -> Complaint:  # noqa: ANN001
    complaint = selectors.get_complaint(complaint_id)
    if complaint.buyer_id != user.pk and not selectors.complaints_for(user).filter(pk=complaint.pk).exists():
        _outside(user, "a complaint")
        raise ComplaintNotFound()
    return complaint


def _reachable_claim(claim_id: int, user) -> PledgeClaim:  # noqa: ANN001
    claim = selectors.get_claim(claim_id)
    if claim.claimant_id != user.pk and not selectors.claims_for(user).filter(pk=claim.pk).exists() \
            and claim.pledge.host.user_id != user.pk:
        _outside(user, "a pledge claim")
        raise ClaimNotFound()
    return claim


def _fresh(shipment: Shipment) -> Shipment:
    return selectors.shipment_with_items(shipment)


# ---------------------------------------------------------------- shipments


@router.get("/fulfilment/shipments", response=responses({200: list[ShipmentOut]}), auth=auth_required,
            summary="The caller's packing list (producer managers, county staff)")
def list_shipments(request, filters: Query[ShipmentFilter]):  # noqa: ANN001, ANN201
    qs = selectors.shipments_for(request.auth).prefetch_related("items__line__product").order_by("deadline", "id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.late is not None:
        qs = qs.filter(late=filters.late)
    return [_shipment_out(s) for s in qs[filters.offset:filters.offset + filters.limit]]


@router.get("/fulfilment/shipments/{shipment_id}", response=responses({200: ShipmentOut}, ShipmentNotFound, NotYourShipment),
            auth=auth_required)
def get_shipment(request, shipment_id: Id):  # noqa: ANN001, ANN201
    return _shipment_out(_fresh(_visible_shipment(shipment_id, request.auth)))


@router.post("/fulfilment/shipments/{shipment_id}/pack", response=responses({200: ShipmentOut}, ShipmentNotFound, NotYourShipment, InvalidTransition),
             auth=auth_required)
def pack(request, shipment_id: Id):  # noqa: ANN001, ANN201
    shipment = shipment_services.pack_shipment(actor=request.auth, shipment=_reachable_shipment(shipment_id, request.auth))
    return _shipment_out(_fresh(shipment))


@router.post("/fulfilment/shipments/{shipment_id}/ship", response=responses({200: ShipmentOut}, ShipmentNotFound, NotYourShipment, InvalidTransition, E.BadTrackingNumber, E.UnknownCarrier, E.TrackingNumberInUse),
             auth=auth_required, summary="Hand the parcel to the courier: courier and waybill number")
def ship(request, shipment_id: Id, payload: ShipmentShipIn):  # noqa: ANN001, ANN201
    shipment = shipment_services.ship_shipment(actor=request.auth, shipment=_reachable_shipment(shipment_id, request.auth),
                                               carrier=payload.carrier, tracking_number=payload.tracking_number)
    return _shipment_out(_fresh(shipment))


@router.post("/fulfilment/shipments/{shipment_id}/exception",
             response=responses({200: ShipmentOut}, ShipmentNotFound, NotYourShipment, InvalidTransition), auth=auth_required)
def exception(request, shipment_id: Id, payload: ShipmentExceptionIn):  # noqa: ANN001, ANN201
    shipment = shipment_services.report_exception(actor=request.auth, shipment=_reachable_shipment(shipment_id, request.auth),
                                                  reason=payload.reason)
    return _shipment_out(_fresh(shipment))


@router.post("/fulfilment/shipments/{shipment_id}/confirm",
             response=responses({200: ShipmentOut}, ShipmentNotFound, NotYourOrder, InvalidTransition, E.NothingToConfirm), auth=auth_required,
             summary="The buyer confirms this parcel arrived")
def confirm(request, shipment_id: Id):  # noqa: ANN001, ANN201
    shipment = shipment_services.confirm_delivery(actor=request.auth, shipment=_reachable_shipment(shipment_id, request.auth))
    return _shipment_out(_fresh(shipment))


@router.get("/fulfilment/orders/{order_id}/shipments", response=responses({200: list[ShipmentOut]}, OrderNotFound, NotYourOrder),
            auth=auth_required, summary="The parcels of one order (its buyer or the producers' handlers)")
def order_shipments(request, order_id: Id):  # noqa: ANN001, ANN201
    order = _reachable_order(order_id, request.auth)
    shipments = list(selectors.order_shipments(order))
    if order.buyer_id != request.auth.pk:
        shipments = [s for s in shipments if policy.can(request.auth, "shipment.handle", s.producer)]
        if not shipments:
            raise not_your_order()
    return [_shipment_out(s) for s in shipments]


@router.post("/fulfilment/orders/{order_id}/confirm-delivery",
             response=responses({200: list[ShipmentOut]}, OrderNotFound, NotYourOrder, E.NothingToConfirm), auth=auth_required,
             summary="The buyer confirms every shipped parcel of the order arrived")
def confirm_order(request, order_id: Id):  # noqa: ANN001, ANN201
    order = _reachable_order(order_id, request.auth)
    shipments = shipment_services.confirm_order_delivery(actor=request.auth, order=order)
    return [_shipment_out(_fresh(s)) for s in shipments]


# ---------------------------------------------------------------- after-sales


@router.post("/fulfilment/after-sales", response=responses({201: AfterSalesOut}, LineNotFound, NotYourOrder, E.AfterSalesNotAllowed, E.AfterSalesOpen, (422, RefundExceedsPaid)),
             auth=auth_required, summary="Ask for a refund (or return and refund) of one order line")
def request_after_sales(request, payload: AfterSalesIn):  # noqa: ANN001, ANN201
    line = _own_line(payload.order_line_id, request.auth)
    req = after_sales_services.request_after_sales(actor=request.auth, line=line, kind=payload.kind, reason=payload.reason,
                                                   evidence=payload.evidence, amount=payload.amount)
    return Status(201, _after_sales_out(req))


@router.post("/fulfilment/after-sales/{request_id}/photos", response=responses(
    {201: AfterSalesPhotoOut}, AfterSalesNotFound, NotYourOrder, E.PhotosClosed, E.TooManyPhotos, ImageRefused,
    ValidationFailed, (400, "bad_request")),
    auth=auth_required, summary="Attach a photo to one's own after-sales request (multipart, at most 6)")
def add_after_sales_photo(request, request_id: Id, file: UploadedFile = File(..., description=(  # noqa: ANN001, ANN201, B008
        "JPEG, PNG or WebP, judged by content; at most IMAGE_MAX_BYTES (10 MB) and IMAGE_MAX_PIXELS "
        "(40 million); at least 64 px a side. Kept without EXIF, re-encoded as WebP."))):
    """Only the buyer, while the request awaits a decision (409 photos_closed after); a refused file
    (422 image_invalid, `details.reason`) stores nothing."""
    photo = after_sales_services.add_after_sales_photo(
        actor=request.auth, request=_reachable_after_sales(request_id, request.auth), upload=file)
    return Status(201, _photo_out(photo))


@router.get("/fulfilment/after-sales", response=responses({200: list[AfterSalesOut]}), auth=auth_required,
            summary="The caller's own requests, and those they decide (producers, county staff)")
def list_after_sales(request, page: Query[FulfilmentPage]):  # noqa: ANN001, ANN201
    qs = selectors.own_and_handled_after_sales(request.auth)
    return [_after_sales_out(r) for r in qs[page.offset:page.offset + page.limit]]


@router.post("/fulfilment/after-sales/{request_id}/approve",
             response=responses({200: AfterSalesOut}, AfterSalesNotFound, PermissionDenied, InvalidTransition, RefundExceedsPaid, GatewayError), auth=auth_required)
def approve(request, request_id: Id, payload: AfterSalesApproveIn):  # noqa: ANN001, ANN201
    req = after_sales_services.approve_after_sales(actor=request.auth, request=_reachable_after_sales(request_id, request.auth),
                                                   note=payload.note, refund_now=payload.refund_now)
    return _after_sales_out(req)


@router.post("/fulfilment/after-sales/{request_id}/reject",
             response=responses({200: AfterSalesOut}, AfterSalesNotFound, PermissionDenied, InvalidTransition), auth=auth_required)
def reject(request, request_id: Id, payload: AfterSalesRejectIn):  # noqa: ANN001, ANN201
    req = after_sales_services.reject_after_sales(actor=request.auth, request=_reachable_after_sales(request_id, request.auth),
                                                  note=payload.note)
    return _after_sales_out(req)


@router.post("/fulfilment/after-sales/{request_id}/refund",
             response=responses({200: AfterSalesOut}, AfterSalesNotFound, PermissionDenied, InvalidTransition, RefundExceedsPaid, GatewayError), auth=auth_required)
def refund(request, request_id: Id):  # noqa: ANN001, ANN201
    req = after_sales_services.refund_after_sales(actor=request.auth, request=_reachable_after_sales(request_id, request.auth))
    return _after_sales_out(req)


# ---------------------------------------------------------------- complaints


@router.post("/fulfilment/complaints", response=responses({201: ComplaintOut}, OrderNotFound, LineNotFound, NotYourOrder, E.OrderNotPaid, E.ComplaintLimit),
             auth=auth_required, summary="Complain (投诉) about an order to the county office")
def file_complaint(request, payload: ComplaintIn):  # noqa: ANN001, ANN201
    order = _own_order(payload.order_id, request.auth)
    line = None
    if payload.order_line_id is not None:
        line = order.lines.filter(pk=payload.order_line_id).first()
        if line is None:
            raise LineNotFound()
    complaint = complaint_services.file_complaint(actor=request.auth, order=order, category=payload.category,
                                                  text=payload.text, line=line)
    return Status(201, _complaint_out(complaint))


@router.get("/fulfilment/complaints", response=responses({200: list[ComplaintOut]}), auth=auth_required,
            summary="The caller's own complaints, or the county's (county staff)")
def list_complaints(request, page: Query[FulfilmentPage], status: ComplaintStatusLit | None = None):  # noqa: ANN001, ANN201
    qs = selectors.own_and_handled_complaints(request.auth)
    if status:
        qs = qs.filter(status=status)
    qs = qs.order_by("-created_at", "-id")
    return [_complaint_out(c) for c in qs[page.offset:page.offset + page.limit]]


@router.post("/fulfilment/complaints/{complaint_id}/status",
             response=responses({200: ComplaintOut}, ComplaintNotFound, PermissionDenied, InvalidTransition), auth=auth_required)
def complaint_status(request, complaint_id: Id, payload: ComplaintStatusIn):  # noqa: ANN001, ANN201
    complaint = complaint_services.update_complaint(actor=request.auth, complaint=_reachable_complaint(complaint_id, request.auth),
                                                    status=payload.status, note=payload.note)
    return _complaint_out(complaint)


# ---------------------------------------------------------------- reviews


@router.post("/fulfilment/reviews", response=responses({201: ReviewOut}, LineNotFound, NotYourOrder, E.ReviewNotAllowed, E.AlreadyReviewed, E.BadRating),
             auth=auth_required, summary="Review a delivered order line (once)")
def create_review(request, payload: ReviewIn):  # noqa: ANN001, ANN201
    line = _own_line(payload.order_line_id, request.auth)
    review = review_services.create_review(actor=request.auth, line=line, rating=payload.rating, text=payload.text)
    return Status(201, _review_out(review))


@router.get("/fulfilment/products/{product_id}/reviews", response=responses({200: ReviewListOut}, ProductNotFound),
            auth=None, summary="Public reviews of a product, with its rating")
def product_reviews(request, product_id: Id, page: Query[FulfilmentPage]):  # noqa: ANN001, ANN201
    product = selectors.get_product(product_id)
    summary = selectors.product_rating(product)
    reviews = selectors.product_reviews(product, limit=None)[page.offset:page.offset + page.limit]
    return {"product_id": product.pk, "count": summary.count,
            "average": None if summary.average is None else str(summary.average),
            "histogram": {str(k): v for k, v in summary.histogram.items()},
            "reviews": [_review_out(r) for r in reviews]}


# ---------------------------------------------------------------- pledges


@router.get("/fulfilment/streams/{stream_id}/pledges", response=responses({200: list[PledgeOut]}, StreamNotFound),
            auth=None, summary="The host's pledges (先行赔付) carried by a stream")
def list_pledges(request, stream_id: Id):  # noqa: ANN001, ANN201
    return [_pledge_out(p) for p in selectors.stream_pledges(selectors.get_stream(stream_id))]


@router.post("/fulfilment/streams/{stream_id}/pledges",
             response=responses({201: PledgeOut}, StreamNotFound, ProductNotFound, PermissionDenied, E.StreamClosed,
                                E.PublicServantMustUseFund, ProductNotInStream), auth=auth_required)
def create_pledge(request, stream_id: Id, payload: PledgeIn):  # noqa: ANN001, ANN201
    stream = selectors.get_stream(stream_id)
    product = None
    if payload.product_id is not None:
        product = selectors.get_product(payload.product_id)
    pledge = pledge_services.create_pledge(actor=request.auth, stream=stream, terms=payload.terms,
                                           max_per_claim=payload.max_per_claim, funded_by=payload.funded_by,
                                           product=product, total_cap=payload.total_cap)
    return Status(201, _pledge_out(pledge))


@router.post("/fulfilment/pledges/{pledge_id}/claims", response=responses({201: PledgeClaimOut}, E.PledgeNotFound, OrderNotFound, NotYourOrder, E.NotBoughtInStream, E.HostCannotReceive, E.ClaimExists, E.ProductNotInOrder, E.ClaimExceedsPledge),
             auth=auth_required, summary="A buyer of the stream claims against its pledge")
def submit_claim(request, pledge_id: Id, payload: PledgeClaimIn):  # noqa: ANN001, ANN201
    pledge = selectors.get_pledge(pledge_id)
    order = _own_order(payload.order_id, request.auth)
    claim = pledge_services.submit_claim(actor=request.auth, pledge=pledge, order=order, amount=payload.amount,
                                         text=payload.text)
    return Status(201, _claim_out(claim))


@router.get("/fulfilment/pledge-claims", response=responses({200: list[PledgeClaimOut]}), auth=auth_required)
def list_claims(request, page: Query[FulfilmentPage]):  # noqa: ANN001, ANN201
    qs = selectors.claims_for(request.auth).order_by("-created_at", "-id")
    return [_claim_out(c) for c in qs[page.offset:page.offset + page.limit]]


@router.post("/fulfilment/pledge-claims/{claim_id}/review",
             response=responses({200: PledgeClaimOut}, ClaimNotFound, PermissionDenied, E.ConflictOfInterest, InvalidTransition), auth=auth_required)
def review_claim(request, claim_id: Id):  # noqa: ANN001, ANN201
    return _claim_out(pledge_services.start_claim_review(actor=request.auth, claim=_reachable_claim(claim_id, request.auth)))


@router.post("/fulfilment/pledge-claims/{claim_id}/decision",
             response=responses({200: PledgeClaimOut}, ClaimNotFound, PermissionDenied, E.ConflictOfInterest, InvalidTransition), auth=auth_required)
def decide_claim(request, claim_id: Id, payload: PledgeClaimDecisionIn):  # noqa: ANN001, ANN201
    claim = pledge_services.decide_claim(actor=request.auth, claim=_reachable_claim(claim_id, request.auth), upheld=payload.upheld,
                                         reason=payload.reason)
    return _claim_out(claim)


@router.post("/fulfilment/pledge-claims/{claim_id}/compensation",
             response=responses({200: PledgeClaimOut}, ClaimNotFound, PermissionDenied, E.ConflictOfInterest, InvalidTransition, E.ClaimExceedsPledge, E.PledgeCapExceeded), auth=auth_required)
def compensate_claim(request, claim_id: Id, payload: PledgeCompensationIn):  # noqa: ANN001, ANN201
    claim = pledge_services.compensate_claim(actor=request.auth, claim=_reachable_claim(claim_id, request.auth),
                                             amount=payload.amount, reference=payload.reference)
    return _claim_out(claim)

