"""Complaints (投诉): a buyer's complaint about an order, handled by the county office.

    open ─▶ in_progress ─▶ resolved | dismissed
"""

from __future__ import annotations

from django.db import transaction

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_text
from zhunong.orders.models import Order, OrderLine, OrderStatus

from ..errors import ComplaintLimit, OrderNotPaid, not_your_order
from ..models import Complaint, ComplaintCategory, ComplaintStatus, ComplaintTransition

C = ComplaintStatus
COMPLAINT = TransitionTable(
    "complaint",
    {
        C.OPEN: {C.IN_PROGRESS, C.RESOLVED, C.DISMISSED},
        C.IN_PROGRESS: {C.RESOLVED, C.DISMISSED},
        C.RESOLVED: set(),
        C.DISMISSED: set(),
    },
)

MAX_OPEN_COMPLAINTS_PER_ORDER = 3


@transaction.atomic
def file_complaint(*, actor: User, order: Order, category: str, text: str,
                   line: OrderLine | None = None) -> Complaint:
    """A buyer's complaint (投诉) about an order, to the county office of the producer's county."""
    order = type(order).objects.select_for_update().get(pk=order.pk)
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise not_your_order()
    if order.status == OrderStatus.RESERVED:
        raise OrderNotPaid("Complaints are about paid orders.")
    if category not in ComplaintCategory.values:
        raise ValidationFailed("category: unknown category.", details={"field": "category",
                                                                       "allowed": list(ComplaintCategory.values)})
    text = clean_text(text, field="text", max_length=2000, multiline=True)
    if line is not None and line.order_id != order.pk:
        raise ValidationFailed("line: not a line of this order.", details={"field": "line"})
    if Complaint.objects.filter(order=order, status__in=(C.OPEN, C.IN_PROGRESS)).count() >= MAX_OPEN_COMPLAINTS_PER_ORDER:
        raise ComplaintLimit()
    anchor = line or order.lines.select_related("producer__village").first()
    producer = anchor.producer if anchor is not None else None
    region = None
    if producer is not None:
        region = producer.village.ancestor_at("county") or producer.village
    elif order.stream_id:
        region = order.stream.channel.county
    if region is None:
        raise ValidationFailed("order: cannot tell which county handles it.", details={"field": "order"})
    complaint = Complaint.objects.create(buyer=actor, order=order, line=line, producer=producer, region=region,
                                         category=category, text=text)
    ComplaintTransition.objects.create(complaint=complaint, from_status=C.OPEN, to_status=C.OPEN, actor=actor,
                                       reason="filed")
    return complaint


@transaction.atomic
def update_complaint(*, actor: User, complaint: Complaint, status: str, note: str = "") -> Complaint:
    """County staff take up, resolve or dismiss a complaint; resolving or dismissing needs a note."""
    complaint = Complaint.objects.select_for_update().select_related("region").get(pk=complaint.pk)
    if not policy.can(actor, "complaint.handle", complaint.region):
        raise PermissionDenied("Only the county office handles complaints.")
    if status not in ComplaintStatus.values:
        raise ValidationFailed("status: unknown status.", details={"field": "status"})
    note = clean_text(note, field="note", max_length=500, required=status in (C.RESOLVED, C.DISMISSED),
                      multiline=True)
    COMPLAINT.check(complaint.status, status)
    ComplaintTransition.objects.create(complaint=complaint, from_status=complaint.status, to_status=status,
                                       actor=actor, reason=note)
    complaint.status = status
    complaint.handled_by = actor
    if note:
        complaint.resolution = note
    complaint.save(update_fields=["status", "handled_by", "resolution", "updated_at"])
    return complaint
