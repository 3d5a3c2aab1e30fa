"""Reads for payments (the pages and the API read through these)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import PaymentSession, SandboxPayment


def sandbox_payment(session_ref: str) -> SandboxPayment | None:
    """The sandbox gateway's payment behind a checkout session reference, if any."""
    return SandboxPayment.objects.filter(session_ref=session_ref).first()


def session_of(payment: SandboxPayment) -> PaymentSession | None:
    """The shop's checkout session (with its order) that a sandbox payment pays, if any."""
    return PaymentSession.objects.select_related("order").filter(session_ref=payment.session_ref).first()


def open_sessions() -> QuerySet[PaymentSession]:
    """Checkout sessions still waiting for their payment (with their orders)."""
    return PaymentSession.objects.filter(status=PaymentSession.Status.OPEN).select_related("order")
