"""Reads for payments (the pages and the API read through these)."""

from __future__ import annotations

from django.db.models import QuerySet

from zhunong.accounts.models import User
from zhunong.accounts.selectors import county_staff_q

from .models import PaymentSession, Refund, SandboxPayment


def sandbox_payment(session_ref: str) -> SandboxPayment | None:
    """The sandbox gateway's payment behind a checkout session reference, if any."""
    return SandboxPayment.objects.filter(session_ref=session_ref).first()


def session_of(payment: SandboxPayment) -> PaymentSession | None:
    """The shop's checkout session (with its order) that a sandbox payment pays, if any."""
    return PaymentSession.objects.select_related("order").filter(session_ref=payment.session_ref).first()


def open_sessions() -> QuerySet[PaymentSession]:
    """Checkout sessions still waiting for their payment (with their orders)."""
    return PaymentSession.objects.filter(status=PaymentSession.Status.OPEN).select_related("order")


def alipay_session(session_ref: str) -> PaymentSession | None:
    """The shop's Alipay checkout session (with its order) behind an out_trade_no, if any."""
    return PaymentSession.objects.select_related("order").filter(provider="alipay", session_ref=session_ref).first()


def escalated_refunds(user: User) -> QuerySet[Refund]:
    """Refunds whose retries ran out and that have not gone through since, for the county staff of the
    orders' products' regions (every one for a platform admin); oldest first."""
    ids = Refund.objects.filter(escalated_at__isnull=False).exclude(status=Refund.Status.SUCCEEDED) \
        .filter(county_staff_q(user, "order__lines__product__origin")).values("pk")
    return Refund.objects.filter(pk__in=ids).select_related("order").order_by("escalated_at", "id")
