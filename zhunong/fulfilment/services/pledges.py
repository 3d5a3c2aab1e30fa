"""Host pledges (先行赔付) and the claims buyers make against them.

A stream's host (or county staff for them) promises compensation if a claim holds; the county office
decides claims and records the payment:

    claim  submitted ─▶ under_review ─▶ upheld ─▶ compensated  |  under_review ─▶ rejected

A public servant host's pledge is paid from the platform's pledge fund, and no host ever receives money.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.catalog.models import Product
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.integrity import refusals_recorded
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text
from zhunong.live.models import Host, Stream, StreamStatus
from zhunong.orders.models import Order, OrderStatus

from .. import selectors
from ..errors import (
    ClaimExceedsPledge,
    ClaimExists,
    ConflictOfInterest,
    HostCannotReceive,
    NotBoughtInStream,
    PledgeCapExceeded,
    ProductNotInOrder,
    PublicServantMustUseFund,
    StreamClosed,
    not_your_order,
    pledged_product_not_in_stream,
)
from ..models import ClaimStatus, Pledge, PledgeClaim, PledgeClaimTransition, PledgeFunding
from ..rules import MAX_AMOUNT

K = ClaimStatus
CLAIM = TransitionTable(
    "pledge_claim",
    {
        K.SUBMITTED: {K.UNDER_REVIEW},
        K.UNDER_REVIEW: {K.UPHELD, K.REJECTED},
        K.UPHELD: {K.COMPENSATED},
        K.REJECTED: set(),
        K.COMPENSATED: set(),
    },
)

# The order statuses that let a buyer claim: paid for, and not refunded or cancelled.
CLAIM_ORDER_STATUSES = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED,
                        OrderStatus.REFUND_REQUESTED}


@refusals_recorded("fulfilment.pledge_refused", PublicServantMustUseFund, subject="stream")
@transaction.atomic
def create_pledge(*, actor: User, stream: Stream, terms: str, max_per_claim: object, funded_by: str,
                  product: Product | None = None, total_cap: object | None = None) -> Pledge:
    """The stream's host (or county staff for them) promises compensation if a claim holds.

    A public servant host's pledge is paid from the platform's pledge fund, never privately, and no
    host ever receives money from a pledge.
    """
    host = stream.host
    if not policy.can(actor, "pledge.make", stream):
        raise PermissionDenied("Only the stream's host or county staff make its pledges.")
    if stream.status not in (StreamStatus.SCHEDULED, StreamStatus.LIVE):
        raise StreamClosed(details={"status": stream.status})
    if funded_by not in PledgeFunding.values:
        raise ValidationFailed("funded_by: host or platform_fund.", details={"field": "funded_by"})
    if host.is_public_servant and funded_by != PledgeFunding.PLATFORM_FUND:
        raise PublicServantMustUseFund(details={"field": "funded_by"})
    if product is not None and not stream.products.filter(pk=product.pk).exists():
        raise pledged_product_not_in_stream()
    max_d = clean_decimal(max_per_claim, field="max_per_claim", max_value=MAX_AMOUNT)
    cap_d = None
    if total_cap not in (None, ""):
        cap_d = clean_decimal(total_cap, field="total_cap", max_value=Decimal("100000000"))
        if cap_d < max_d:
            raise ValidationFailed("total_cap: at least max_per_claim.", details={"field": "total_cap"})
    return Pledge.objects.create(stream=stream, host=host, product=product,
                                 terms=clean_text(terms, field="terms", max_length=300),
                                 max_per_claim=max_d, total_cap=cap_d, funded_by=funded_by, created_by=actor)


@refusals_recorded("fulfilment.pledge_refused", HostCannotReceive, subject="pledge")
@transaction.atomic
def submit_claim(*, actor: User, pledge: Pledge, order: Order, amount: object, text: str) -> PledgeClaim:
    """A buyer who paid for an order in the pledge's stream claims compensation."""
    order = type(order).objects.select_for_update().get(pk=order.pk)
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise not_your_order()
    if order.stream_id != pledge.stream_id or order.status not in CLAIM_ORDER_STATUSES:
        raise NotBoughtInStream(details={"order_status": order.status})
    if actor.pk == pledge.host.user_id or Host.objects.filter(user=actor, is_public_servant=True).exists():
        raise HostCannotReceive()
    if pledge.product_id and not order.lines.filter(product_id=pledge.product_id).exists():
        raise ProductNotInOrder()
    amount_d = clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d > pledge.max_per_claim:
        raise ClaimExceedsPledge(details={"field": "amount", "max_per_claim": str(pledge.max_per_claim)})
    text = clean_text(text, field="text", max_length=1000, multiline=True)
    if PledgeClaim.objects.filter(pledge=pledge, order=order).exists():
        raise ClaimExists()
    try:
        with transaction.atomic():
            claim = PledgeClaim.objects.create(pledge=pledge, order=order, claimant=actor, text=text,
                                               amount=amount_d)
    except IntegrityError:
        raise ClaimExists()
    PledgeClaimTransition.objects.create(claim=claim, from_status=K.SUBMITTED, to_status=K.SUBMITTED,
                                         actor=actor, reason="submitted")
    return claim


def _lock_claim(claim: PledgeClaim) -> PledgeClaim:
    return PledgeClaim.objects.select_for_update().select_related(
        "pledge__stream__channel__county", "pledge__host").get(pk=claim.pk)


def _require_claim_decider(actor: User | None, claim: PledgeClaim) -> None:
    if actor is not None and actor.pk == claim.pledge.host.user_id:
        raise ConflictOfInterest()
    if not policy.can(actor, "pledge_claim.decide", claim.pledge.stream):
        raise PermissionDenied("Only the county office decides pledge claims.")


def _move_claim(claim: PledgeClaim, target: str, *, actor: User, reason: str) -> None:
    CLAIM.check(claim.status, target)
    PledgeClaimTransition.objects.create(claim=claim, from_status=claim.status, to_status=target, actor=actor,
                                         reason=reason[:500])
    claim.status = target


@transaction.atomic
def start_claim_review(*, actor: User, claim: PledgeClaim) -> PledgeClaim:
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    _move_claim(claim, K.UNDER_REVIEW, actor=actor, reason="review started")
    claim.save(update_fields=["status"])
    return claim


@transaction.atomic
def decide_claim(*, actor: User, claim: PledgeClaim, upheld: bool, reason: str) -> PledgeClaim:
    """Uphold or reject with the reason on record (who, when, why)."""
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    if not isinstance(upheld, bool):
        raise ValidationFailed("upheld: true or false.", details={"field": "upheld"})
    reason = clean_text(reason, field="reason", max_length=500, multiline=True)
    _move_claim(claim, K.UPHELD if upheld else K.REJECTED, actor=actor, reason=reason)
    claim.decision_reason, claim.decided_by, claim.decided_at = reason, actor, timezone.now()
    claim.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    return claim


@transaction.atomic
def compensate_claim(*, actor: User, claim: PledgeClaim, amount: object, reference: str) -> PledgeClaim:
    """Record that the buyer was paid: how much, from which source, under which transfer reference."""
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    CLAIM.check(claim.status, K.COMPENSATED)
    pledge = Pledge.objects.select_for_update().get(pk=claim.pledge_id)
    amount_d = clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d > claim.amount or amount_d > pledge.max_per_claim:
        raise ClaimExceedsPledge(details={"field": "amount", "claimed": str(claim.amount),
                                          "max_per_claim": str(pledge.max_per_claim)})
    if pledge.total_cap is not None and selectors.compensated_total(pledge) + amount_d > pledge.total_cap:
        raise PledgeCapExceeded(details={"total_cap": str(pledge.total_cap),
                                         "paid": str(selectors.compensated_total(pledge))})
    reference = clean_text(reference, field="reference", max_length=64)
    _move_claim(claim, K.COMPENSATED, actor=actor, reason=f"{amount_d} from {pledge.funded_by}, ref {reference}")
    claim.compensated_amount, claim.paid_from = amount_d, pledge.funded_by
    claim.compensation_ref, claim.compensated_at = reference, timezone.now()
    claim.save(update_fields=["status", "compensated_amount", "paid_from", "compensation_ref", "compensated_at"])
    return claim
