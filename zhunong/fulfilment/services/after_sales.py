"""After-sales (售后): a buyer's request for a refund, or return and refund, of one order line.

    requested ─▶ approved ─▶ refunded  |  requested ─▶ rejected

The money moves through orders' services (request_refund, refund, reject_refund); parcels left with
nothing to send are cancelled and the order is brought up to its parcels (services.shipments).

拍多了/不想要 (reason `unwanted`) goes through the same table: it is allowed only while the line's parcel
has not left (rules.BEFORE_SHIPMENT_REASONS) and only as a refund, so approving it refunds the units not
yet sent and the packing list ships what is left. Photos (at most rules.MAX_AFTER_SALES_PHOTOS) are
checked by core/images.py and kept privately (fulfilment/storage.py; decision 0031).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core import images
from zhunong.core.audit import record_action
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text
from zhunong.orders import services as orders_services
from zhunong.orders.models import OrderLine, OrderStatus

from .. import selectors
from ..errors import (
    AfterSalesNotAllowed,
    AfterSalesOpen,
    PhotosClosed,
    TooManyPhotos,
    not_your_order,
    refund_exceeds_refundable,
)
from ..models import (
    AfterSalesKind,
    AfterSalesPhoto,
    AfterSalesReason,
    AfterSalesRequest,
    AfterSalesStatus,
    AfterSalesTransition,
    ShipmentStatus,
)
from ..rules import BEFORE_SHIPMENT_REASONS, MAX_AFTER_SALES_PHOTOS, MAX_AMOUNT, NOT_SHIPPED
from ..storage import photo_storage
from ._common import as_seller, record_transition
from .shipments import cancel_orphaned_shipments, sync_order_delivered

A = AfterSalesStatus
AFTER_SALES = TransitionTable(
    "after_sales",
    {A.REQUESTED: {A.APPROVED, A.REJECTED}, A.APPROVED: {A.REFUNDED}, A.REJECTED: set(), A.REFUNDED: set()},
)

# The order statuses in which a line may be asked back: paid and not yet refunded or cancelled.
AFTER_SALES_ORDER_STATUSES = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED,
                              OrderStatus.REFUND_REQUESTED}


@transaction.atomic
def request_after_sales(*, actor: User, line: OrderLine, kind: str, reason: str, evidence: str,
                        amount: object | None = None, photos: Sequence[object] = ()) -> AfterSalesRequest:
    """The buyer asks for a refund (or return and refund) of one line, with a reason, evidence and up to
    MAX_AFTER_SALES_PHOTOS photos (uploads or bytes; every one is checked before anything is written).

    The order goes to refund_requested through orders.request_refund; the amount can be at most what
    is left to refund on the line. Several lines may have requests at once (one open request per line).
    `unwanted` (拍多了/不想要) is refused once the line's parcel has shipped, and is a refund only.
    """
    line = OrderLine.objects.select_related("order", "producer").get(pk=line.pk)
    order = line.order
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise not_your_order()
    if kind not in AfterSalesKind.values:
        raise ValidationFailed("kind: refund_only or return_refund.", details={"field": "kind"})
    if reason not in AfterSalesReason.values:
        raise ValidationFailed("reason: unknown reason.", details={"field": "reason",
                                                                   "allowed": list(AfterSalesReason.values)})
    evidence = clean_text(evidence, field="evidence", max_length=1000, multiline=True)
    if order.status not in AFTER_SALES_ORDER_STATUSES:
        raise AfterSalesNotAllowed(details={"status": order.status})
    photos = [p for p in photos if p is not None]
    if len(photos) > MAX_AFTER_SALES_PHOTOS:
        raise TooManyPhotos(details={"field": "photos", "max": MAX_AFTER_SALES_PHOTOS})
    shipment = selectors.line_shipment(line)
    if reason in BEFORE_SHIPMENT_REASONS and shipment is not None and shipment.status not in NOT_SHIPPED:
        raise AfterSalesNotAllowed("This reason is only for goods not yet shipped.",
                                   details={"field": "reason", "shipment_status": shipment.status})
    if kind == AfterSalesKind.RETURN_REFUND and (
            shipment is None or shipment.status not in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)):
        raise AfterSalesNotAllowed("Nothing to return: this line has not been shipped.",
                                   details={"field": "kind"})
    if AfterSalesRequest.objects.filter(line=line, status__in=AfterSalesRequest.OPEN_STATUSES).exists():
        raise AfterSalesOpen()
    refundable = line.refundable
    amount_d = refundable if amount in (None, "") else clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d <= 0 or amount_d > refundable:
        raise refund_exceeds_refundable(refundable)
    # Judge every photo before writing anything: one bad file refuses the request as a whole.
    checked = [images.check(images.read_upload(p, field="photos"), field="photos") for p in photos]
    request = AfterSalesRequest.objects.create(order=order, line=line, producer=line.producer, buyer=actor,
                                               kind=kind, reason=reason, evidence=evidence, amount=amount_d)
    AfterSalesTransition.objects.create(request=request, from_status=A.REQUESTED, to_status=A.REQUESTED,
                                        actor=actor, reason=f"{reason}: {evidence}"[:300])
    if order.status != OrderStatus.REFUND_REQUESTED:
        # A second line's request while the order already awaits a refund decision leaves it there.
        orders_services.request_refund(order=order, actor=actor, reason=f"{reason}: {evidence}"[:300],
                                       lines={line.pk: amount_d})
    for position, picture in enumerate(checked):
        _store_photo(request, picture, position=position)
    return request


# The thumbnail on the decision list and the buyer's page (a 390 px phone at 2x shows it 160 px wide).
THUMB_SIDE = 320


def _store_photo(request: AfterSalesRequest, picture: images.CheckedImage, *, position: int) -> AfterSalesPhoto:
    """Write a checked photo's master (WebP, longest side 1920) and thumbnail, then its row. Callers do this
    last in their transaction, so only a failed commit could leave files without a row."""
    storage = photo_storage()
    folder = f"{request.pk}/{secrets.token_hex(8)}"
    thumb = picture.image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    names = [storage.save(f"{folder}/master.webp", ContentFile(images.master(picture))),
             storage.save(f"{folder}/thumb.webp", ContentFile(images.encode_webp(thumb)))]
    try:
        return AfterSalesPhoto.objects.create(request=request, image=names[0], thumbnail=names[1],
                                              width=picture.width, height=picture.height, position=position)
    except Exception:
        for name in names:
            storage.delete(name)
        raise


@transaction.atomic
def add_after_sales_photo(*, actor: User, request: AfterSalesRequest, upload: object) -> AfterSalesPhoto:
    """The buyer adds one photo to their request while it awaits a decision (at most MAX_AFTER_SALES_PHOTOS)."""
    request = _lock_request(request)
    if actor is None or not actor.is_authenticated or request.buyer_id != actor.pk:
        raise not_your_order()
    if request.status != A.REQUESTED:
        raise PhotosClosed(details={"status": request.status})
    count = request.photos.count()
    if count >= MAX_AFTER_SALES_PHOTOS:
        raise TooManyPhotos(details={"field": "file", "max": MAX_AFTER_SALES_PHOTOS})
    picture = images.check(images.read_upload(upload, field="file"), field="file")
    return _store_photo(request, picture, position=count)


def _lock_request(request: AfterSalesRequest) -> AfterSalesRequest:
    return AfterSalesRequest.objects.select_for_update().select_related("order", "line", "producer__village").get(
        pk=request.pk)


def _require_after_sales_handler(actor: User | None, request: AfterSalesRequest) -> None:
    if not policy.can(actor, "shipment.handle", request.producer):
        raise PermissionDenied("Only the producer's managers or county staff decide this request.")


def _move_request(request: AfterSalesRequest, target: str, *, actor: User | None, reason: str) -> None:
    AFTER_SALES.check(request.status, target)
    record_transition(AfterSalesTransition, "request", request, target, actor=actor, reason=reason)
    request.status = target


def _audit_decision(request: AfterSalesRequest, *, actor: User, before: str) -> None:
    record_action(actor=actor, action="fulfilment.after_sales_decided", subject=request,
                  region=request.producer.village, before={"status": before},
                  after={"status": request.status, "order": request.order.number, "amount": request.amount,
                         "note": request.decision_note})


@transaction.atomic
def approve_after_sales(*, actor: User, request: AfterSalesRequest, note: str = "",
                        refund_now: bool = True) -> AfterSalesRequest:
    """Agree to the refund; with `refund_now` (the default) the money goes back in the same step."""
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    note = clean_text(note, field="note", max_length=300, required=False)
    before = request.status
    _move_request(request, A.APPROVED, actor=actor, reason=note or "approved")
    request.decision_note, request.decided_by, request.decided_at = note, actor, timezone.now()
    request.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    _audit_decision(request, actor=actor, before=before)
    if refund_now:
        return _refund(request, actor=actor)
    return request


@transaction.atomic
def refund_after_sales(*, actor: User, request: AfterSalesRequest) -> AfterSalesRequest:
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    return _refund(request, actor=actor)


def _refund(request: AfterSalesRequest, *, actor: User) -> AfterSalesRequest:
    AFTER_SALES.check(request.status, A.REFUNDED)
    # orders.refund is the authority on how much may still be refunded; it refuses more than was paid.
    orders_services.refund(order=request.order, actor=as_seller(actor, request.order),
                           amounts={request.line_id: request.amount},
                           reason=f"after-sales #{request.pk}: {request.reason}")
    _move_request(request, A.REFUNDED, actor=actor, reason=f"refunded {request.amount}")
    request.refunded_at = timezone.now()
    request.save(update_fields=["status", "refunded_at"])
    # A parcel whose every line is now refunded in full has nothing left to send, and the order may now
    # be as far along as its remaining parcels.
    cancel_orphaned_shipments(actor=actor, order=request.order)
    sync_order_delivered(request.order, actor=actor)
    return request


@transaction.atomic
def reject_after_sales(*, actor: User, request: AfterSalesRequest, note: str) -> AfterSalesRequest:
    """Refuse with a reason the buyer sees; the buyer can still complain to the county."""
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    note = clean_text(note, field="note", max_length=300)
    before = request.status
    _move_request(request, A.REJECTED, actor=actor, reason=note)
    request.decision_note, request.decided_by, request.decided_at = note, actor, timezone.now()
    request.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    _audit_decision(request, actor=actor, before=before)
    order = request.order
    order.refresh_from_db(fields=["status"])
    others_open = AfterSalesRequest.objects.filter(order=order, status__in=AfterSalesRequest.OPEN_STATUSES).exists()
    if order.status == OrderStatus.REFUND_REQUESTED and not others_open:
        # orders puts the order back where it was before the request; it may now be behind its parcels.
        orders_services.reject_refund(order=order, actor=actor, reason=note, lines=[request.line_id])
        sync_order_delivered(order, actor=actor)
    return request
