"""Writes for payments: checkout sessions, webhooks (verified, applied once), reconciliation, refunds,
and the producers' ledger.

Exactly-once: a webhook event is stored under its (provider, event id) before it is applied, so a
duplicate delivery finds it and stops; and `orders.services.mark_paid` is itself idempotent per payment
reference, so the same payment reaching us by webhook *and* by reconciliation is applied once. Money that
arrives for an order that can no longer be paid (reservation expired, paid twice) is refunded at once.

Money goes to producers only: one ledger entry per order line for its producer or co-op. There is no
host in the ledger at all, so public-servant hosts (公益直播) can never be paid through it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.audit import record_action
from zhunong.core.errors import DomainError
from zhunong.core.integrity import ConcernKind, report_concern
from zhunong.orders import services as orders
from zhunong.orders.errors import AlreadyPaid, NotYourOrder, ReservationExpired
from zhunong.orders.models import Order, OrderLine, OrderStatus

from .errors import OrderNotPayable
from .models import LedgerEntry, PaymentEvent, PaymentSession, Refund
from .providers import get_provider

log = logging.getLogger(__name__)
abuse_log = logging.getLogger("zhunong.abuse")

# A refund the provider keeps refusing is retried this many times (reconciliation, every 2 minutes), then
# escalated: an integrity flag, and the county operator's page lists it until it succeeds.
REFUND_MAX_ATTEMPTS = 20

NOTIFY_PATHS = {"sandbox": "/api/v1/payments/sandbox/webhook", "alipay": "/payments/alipay/notify/"}


def notify_url(provider_name: str) -> str:
    return settings.PUBLIC_BASE_URL + NOTIFY_PATHS[provider_name]


def return_url(order: Order) -> str:
    return settings.PUBLIC_BASE_URL + reverse("orders:detail", args=[order.pk])


def _provider_of_payment(payment_ref: str):  # noqa: ANN202
    """The provider that captured a payment (the one its session was opened with)."""
    name = PaymentSession.objects.filter(payment_ref=payment_ref).exclude(payment_ref="") \
        .values_list("provider", flat=True).first()
    return get_provider(name)


@transaction.atomic
def start_checkout(*, order: Order, actor: User) -> PaymentSession:
    """A payment session for the buyer's reserved order (the open one again if there is one)."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        abuse_log.warning("user %s tried to pay order %s of buyer %s", getattr(actor, "pk", None), order.number,
                          order.buyer_id)
        raise NotYourOrder()
    now = timezone.now()
    if order.status == OrderStatus.CANCELLED:
        raise ReservationExpired(details={"order": order.number})
    if order.status != OrderStatus.RESERVED:
        raise OrderNotPayable(details={"status": order.status})
    if order.expires_at is not None and order.expires_at <= now:
        raise ReservationExpired(details={"order": order.number, "expired_at": order.expires_at.isoformat()})
    provider = get_provider()  # the configured provider; PaymentsUnavailable (503) without one
    existing = PaymentSession.objects.filter(order=order, status=PaymentSession.Status.OPEN, provider=provider.name,
                                             expires_at__gt=now, amount=order.total).first()
    if existing is not None:
        return existing
    expires_at = order.expires_at or now + dt.timedelta(minutes=settings.RESERVATION_MINUTES)
    session = provider.create_session(merchant_reference=order.number, amount=order.total, expires_at=expires_at,
                                      notify_url=notify_url(provider.name), return_url=return_url(order))
    return PaymentSession.objects.create(order=order, provider=provider.name, session_ref=session.session_ref,
                                         amount=order.total, pay_url=session.pay_url, expires_at=expires_at)


def handle_webhook(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify, store once, apply once. Returns the outcome ("applied", "duplicate", "ignored", ...)."""
    provider = get_provider(provider_name)
    try:
        event = provider.parse_webhook(body=body, headers=headers)
    except DomainError:
        abuse_log.warning("refused %s webhook: bad or stale signature (%d bytes)", provider_name, len(body))
        raise
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentEvent.objects.create(provider=provider.name, event_id=event.id, type=event.type,
                                                     payload=event.raw)
        except IntegrityError:
            PaymentEvent.objects.filter(provider=provider.name, event_id=event.id).update(
                deliveries=F("deliveries") + 1)
            return "duplicate"
        outcome = _apply_event(provider.name, event)
        PaymentEvent.objects.filter(pk=record.pk).update(outcome=outcome[:40])
    return outcome


def _apply_event(provider_name: str, event) -> str:  # noqa: ANN001
    data = event.data
    if event.type == "payment.succeeded":
        session = PaymentSession.objects.filter(provider=provider_name, session_ref=str(data.get("session"))).first()
        if session is None:
            log.warning("payment for unknown session %s", data.get("session"))
            return "unknown_session"
        return apply_payment(session=session, amount=Decimal(str(data.get("amount"))),
                             payment_ref=str(data.get("payment")))
    if event.type == "refund.succeeded":
        updated = Refund.objects.filter(reference=str(data.get("refund_reference")),
                                        status__in=[Refund.Status.PENDING, Refund.Status.FAILED]).update(
            status=Refund.Status.SUCCEEDED, provider_ref=str(data.get("refund"))[:64], completed_at=timezone.now())
        return "refund_confirmed" if updated else "ignored"
    # payment.pending and anything else: informational. A stale event never moves a session backwards.
    return "ignored"


def apply_payment(*, session: PaymentSession, amount: Decimal, payment_ref: str) -> str:
    """Apply a captured payment to its order once; money the order cannot take goes straight back."""
    with transaction.atomic():
        session = PaymentSession.objects.select_for_update().get(pk=session.pk)
        order = session.order
        if order.payment_ref == payment_ref:
            return "already_applied"
        if session.status != PaymentSession.Status.PAID:
            session.status = PaymentSession.Status.PAID
            session.payment_ref = payment_ref
            session.save(update_fields=["status", "payment_ref"])
        try:
            with transaction.atomic():
                orders.mark_paid(order=order, amount=amount, payment_ref=payment_ref)
            return "applied"
        except (ReservationExpired, AlreadyPaid, DomainError) as exc:
            log.warning("payment %s cannot pay order %s (%s): refunding it", payment_ref, order.number, exc.code)
            _refund_unapplied(order=order, payment_ref=payment_ref, amount=amount, why=exc.code)
            return f"refunded_{exc.code}"[:40]


def _refund_unapplied(*, order: Order, payment_ref: str, amount: Decimal, why: str) -> Refund:
    refund, created = Refund.objects.get_or_create(
        reference=f"unapplied-{payment_ref}"[:40],
        defaults={"order": order, "payment_ref": payment_ref, "amount": amount, "unapplied": True,
                  "reason": f"payment not applied: {why}"})
    if created:
        record_action(actor=None, action="payments.refund", subject=refund, region=_order_region(order),
                      after={"order": order.number, "amount": amount, "unapplied": True, "reason": refund.reason})
        transaction.on_commit(lambda: submit_refund(refund_id=refund.pk))
    return refund


def credit_producers(*, order: Order) -> list[LedgerEntry]:
    """When a payment is applied (receivers.order_transitioned, inside mark_paid's transaction): each
    line's paid amount to the line's producer."""
    entries = [LedgerEntry(producer_id=line.producer_id, order_line=line, kind=LedgerEntry.Kind.SALE,
                           amount=line.paid_amount) for line in order.lines.all()]
    return LedgerEntry.objects.bulk_create(entries)


def start_refund(*, order: Order, amounts: Mapping[int, Decimal], reason: str, actor: User | None = None) -> Refund:
    """When an order refunds lines (receivers.order_refunded, inside the refund's transaction): record,
    debit producers, audit (who decided it: `actor`, None for the system), then ask the gateway after commit
    (the refund's reference makes the gateway call safe to repeat)."""
    total = sum(amounts.values(), Decimal("0"))
    refund = Refund.objects.create(order=order, payment_ref=order.payment_ref or "", reference=uuid.uuid4().hex,
                                   amount=total, lines={str(k): str(v) for k, v in amounts.items()},
                                   reason=reason[:300])
    lines = {line.pk: line for line in OrderLine.objects.filter(pk__in=list(amounts))}
    LedgerEntry.objects.bulk_create(
        LedgerEntry(producer_id=lines[pk].producer_id, order_line=lines[pk], kind=LedgerEntry.Kind.REFUND,
                    amount=-amount, refund=refund) for pk, amount in amounts.items())
    record_action(actor=actor, action="payments.refund", subject=refund, region=_order_region(order),
                  before={"refunded_total": order.refunded_total - total},
                  after={"order": order.number, "amount": total, "lines": refund.lines, "reason": refund.reason,
                         "refunded_total": order.refunded_total})
    transaction.on_commit(lambda: submit_refund(refund_id=refund.pk))
    return refund


def _order_region(order: Order):  # noqa: ANN202
    line = order.lines.select_related("product__origin").first()
    return line.product.origin if line is not None else None


def submit_refund(*, refund_id: int) -> Refund:
    """Ask the gateway to pay a refund back; repeated by reconciliation until it succeeds."""
    refund = Refund.objects.get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1)
    try:
        provider = _provider_of_payment(refund.payment_ref)
        result = provider.refund(payment_ref=refund.payment_ref, amount=refund.amount, reference=refund.reference)
    except DomainError as exc:  # the gateway said no (e.g. it never captured this payment)
        log.warning("refund %s refused by the gateway (%s); will retry", refund.reference, exc.code)
        return _refund_failed(refund.pk, error=f"{exc.code}: {exc.details or exc.message}")
    except Exception as exc:
        log.exception("refund %s failed at the gateway; will retry", refund.reference)
        return _refund_failed(refund.pk, error=f"{type(exc).__name__}: {exc}")
    if result.status == "succeeded":
        Refund.objects.filter(pk=refund.pk).exclude(status=Refund.Status.SUCCEEDED).update(
            status=Refund.Status.SUCCEEDED, provider_ref=result.refund_ref, completed_at=timezone.now())
    return Refund.objects.get(pk=refund.pk)


def _refund_failed(refund_id: int, *, error: str) -> Refund:
    """Record a failed attempt; once the retries are used up, escalate it (never abandoned silently)."""
    Refund.objects.filter(pk=refund_id, status=Refund.Status.PENDING).update(status=Refund.Status.FAILED)
    Refund.objects.filter(pk=refund_id).exclude(status=Refund.Status.SUCCEEDED).update(last_error=error[:200])
    refund = Refund.objects.get(pk=refund_id)
    if refund.attempts >= REFUND_MAX_ATTEMPTS and refund.escalated_at is None:
        escalate_refund(refund=refund)
    return Refund.objects.get(pk=refund_id)


@transaction.atomic
def escalate_refund(*, refund: Refund) -> Refund:
    """A refund the provider would not pay after every retry: an integrity flag (kind OTHER) for the
    county, and `escalated_at`, which puts it on the county operator's page until it succeeds."""
    refund = Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)
    if refund.escalated_at is not None or refund.status == Refund.Status.SUCCEEDED:
        return refund
    refund.escalated_at = timezone.now()
    refund.save(update_fields=["escalated_at"])
    line = refund.order.lines.select_related("product__origin").first()
    report_concern(
        kind=ConcernKind.OTHER,
        summary=f"退款失败：订单 {refund.order.number} 的 ¥{refund.amount} 经 {refund.attempts} 次重试仍未退回，需人工处理",
        subject=refund, region=line.product.origin if line is not None else None,
        details={"order": refund.order.number, "refund": refund.reference, "amount": str(refund.amount),
                 "attempts": refund.attempts, "last_error": refund.last_error})
    log.error("refund %s of order %s escalated after %d attempts: %s", refund.reference, refund.order.number,
              refund.attempts, refund.last_error)
    return refund


def reconcile_payments(*, older_than_seconds: int = 60, now: dt.datetime | None = None) -> dict[str, int]:
    """Ask the gateway about open sessions we have not heard of, and retry unfinished refunds."""
    now = now or timezone.now()
    report = {"checked": 0, "applied": 0, "expired": 0, "refunds_retried": 0}
    sessions = PaymentSession.objects.filter(status=PaymentSession.Status.OPEN,
                                             created_at__lte=now - dt.timedelta(seconds=older_than_seconds))
    for session in sessions.select_related("order")[:500]:
        report["checked"] += 1
        try:
            status = get_provider(session.provider).query(session_ref=session.session_ref)
        except DomainError:
            continue
        except Exception:  # the provider unreachable: ask again next time
            log.exception("could not query %s session %s", session.provider, session.session_ref)
            continue
        PaymentSession.objects.filter(pk=session.pk).update(checked_at=now)
        if status.status == "succeeded":
            outcome = apply_payment(session=session, amount=status.amount, payment_ref=status.payment_ref)
            report["applied"] += outcome == "applied"
        elif status.status == "expired":
            report["expired"] += PaymentSession.objects.filter(pk=session.pk, status=PaymentSession.Status.OPEN) \
                .update(status=PaymentSession.Status.EXPIRED)
    for refund in Refund.objects.filter(status__in=[Refund.Status.PENDING, Refund.Status.FAILED],
                                        created_at__lte=now - dt.timedelta(seconds=older_than_seconds),
                                        attempts__lt=REFUND_MAX_ATTEMPTS)[:200]:
        submit_refund(refund_id=refund.pk)
        report["refunds_retried"] += 1
    # Retries used up but never escalated (e.g. the last attempt's process died): escalate now.
    for refund in Refund.objects.filter(status__in=[Refund.Status.PENDING, Refund.Status.FAILED],
                                        attempts__gte=REFUND_MAX_ATTEMPTS, escalated_at__isnull=True)[:200]:
        escalate_refund(refund=refund)
    return report


def producer_balance(producer) -> Decimal:  # noqa: ANN001
    return LedgerEntry.objects.filter(producer=producer).aggregate(s=Sum("amount"))["s"] or Decimal("0")
