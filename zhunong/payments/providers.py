"""The payment provider interface, and the sandbox gateway that implements it.

The platform talks to a provider only through `PaymentProvider`: create a checkout session, ask about a
session (reconciliation), refund, and verify + parse a webhook. The sandbox gateway behaves like a real
one: a hosted pay page with a QR code and a confirm button; webhooks signed with HMAC-SHA256 over
"<timestamp>.<body>" (header `Zhunong-Signature: t=<unix>,v1=<hex>`), delivered asynchronously — late,
twice, and out of order (a stale `payment.pending` arrives after `payment.succeeded`).
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhunong.core.errors import DomainError

from .errors import InvalidSignature, StaleSignature, UnknownSession
from .models import SandboxPayment, SandboxRefund, SandboxWebhook
from .signals import webhook_queued

SIGNATURE_HEADER = "Zhunong-Signature"
# A signed request older than this is refused: a captured webhook cannot be replayed later.
SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class ProviderSession:
    session_ref: str
    pay_url: str


@dataclass(frozen=True)
class ProviderStatus:
    status: str  # "pending" | "succeeded" | "expired"
    payment_ref: str
    amount: Decimal


@dataclass(frozen=True)
class ProviderRefund:
    refund_ref: str
    status: str  # "succeeded" | "pending"


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: int
    data: dict[str, Any]
    raw: dict[str, Any]


class PaymentProvider(abc.ABC):
    name = "base"

    @abc.abstractmethod
    def create_session(self, *, merchant_reference: str, amount: Decimal, expires_at: dt.datetime,
                       notify_url: str, return_url: str) -> ProviderSession:
        """Open a payment session for the order's amount; the buyer pays at its pay_url."""

    @abc.abstractmethod
    def query(self, *, session_ref: str) -> ProviderStatus:
        """Ask the gateway for a session's current state (reconciliation)."""

    @abc.abstractmethod
    def refund(self, *, payment_ref: str, amount: Decimal, reference: str) -> ProviderRefund:
        """Return money of a captured payment; `reference` makes the call idempotent."""

    @abc.abstractmethod
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the signature and parse one webhook delivery; raise on anything forged or stale."""


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str | None, *, secret: str, now: int | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> None:
    """Raise InvalidSignature or StaleSignature unless `header` signs `body` recently with `secret`."""
    if not header or len(header) > 500:
        raise InvalidSignature()
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts.get("t", [""])[0])
    except ValueError:
        raise InvalidSignature()
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise InvalidSignature()
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        raise StaleSignature()


class SandboxGateway(PaymentProvider):
    """The gateway's behaviour, in-process. Its records (`Sandbox*`) stand for the provider's database."""

    name = "sandbox"
    # Seconds after payment at which events go out: succeeded (late), succeeded again (duplicate), and the
    # stale "pending" event created at checkout, delivered last (out of order).
    DELAYS = {"first": 2, "duplicate": 6, "stale": 9}

    @property
    def secret(self) -> str:
        return settings.PAYMENT_WEBHOOK_SECRET

    # -- the provider API the platform calls -----------------------------------------------------
    def create_session(self, *, merchant_reference: str, amount: Decimal, expires_at: dt.datetime,
                       notify_url: str, return_url: str) -> ProviderSession:
        ref = "cs_" + secrets.token_hex(12)
        SandboxPayment.objects.create(session_ref=ref, merchant_reference=merchant_reference,
                                                amount=amount, notify_url=notify_url, return_url=return_url,
                                                expires_at=expires_at)
        return ProviderSession(session_ref=ref, pay_url=f"{settings.PUBLIC_BASE_URL}/pay/sandbox/{ref}/")

    def query(self, *, session_ref: str) -> ProviderStatus:
        payment = SandboxPayment.objects.filter(session_ref=session_ref).first()
        if payment is None:
            raise UnknownSession()
        status = payment.status
        if status == SandboxPayment.Status.PENDING and payment.expires_at <= timezone.now():
            status = SandboxPayment.Status.EXPIRED
        return ProviderStatus(status=status, payment_ref=payment.payment_ref, amount=payment.amount)

    @transaction.atomic
    def refund(self, *, payment_ref: str, amount: Decimal, reference: str) -> ProviderRefund:
        existing = SandboxRefund.objects.filter(merchant_reference=reference).first()
        if existing is not None:  # the same reference again: the same refund, never a second one
            return ProviderRefund(refund_ref=existing.refund_ref, status="succeeded")
        payment = SandboxPayment.objects.select_for_update().filter(payment_ref=payment_ref,
                                                                    status=SandboxPayment.Status.SUCCEEDED).first()
        if payment is None:
            raise DomainError("No such captured payment.", code="gateway_unknown_payment", status=502)
        already = sum((r.amount for r in payment.refunds.all()), Decimal("0"))
        if already + amount > payment.amount:
            raise DomainError("Refunds would exceed the payment.", code="gateway_refund_exceeds", status=502)
        item = SandboxRefund.objects.create(payment=payment, refund_ref="re_" + secrets.token_hex(12),
                                            merchant_reference=reference, amount=amount)
        for delay in (self.DELAYS["first"], self.DELAYS["duplicate"]):
            self._event(payment, "refund.succeeded", delay=delay, extra={"refund": item.refund_ref,
                                                                         "refund_reference": reference,
                                                                         "refund_amount": str(amount)},
                        event_id=f"evt_{item.refund_ref}")
        return ProviderRefund(refund_ref=item.refund_ref, status="succeeded")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        verify(body, headers.get(SIGNATURE_HEADER), secret=self.secret)
        try:
            raw = json.loads(body)
            event = WebhookEvent(id=str(raw["id"])[:64], type=str(raw["type"])[:40], created=int(raw["created"]),
                                 data=dict(raw["data"]), raw=raw)
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature("Signed, but not a webhook event.")
        return event

    # -- the gateway's own side: the pay page's confirm button -----------------------------------
    @transaction.atomic
    def confirm(self, *, session_ref: str) -> SandboxPayment:
        """The payer confirmed on the pay page: capture, then notify the merchant (late, twice)."""
        payment = SandboxPayment.objects.select_for_update().filter(session_ref=session_ref).first()
        if payment is None:
            raise UnknownSession()
        if payment.status == SandboxPayment.Status.SUCCEEDED:
            return payment
        if payment.expires_at <= timezone.now():
            payment.status = SandboxPayment.Status.EXPIRED
            payment.save(update_fields=["status"])
            raise DomainError("This checkout session has expired.", code="session_expired", status=409)
        payment.status = SandboxPayment.Status.SUCCEEDED
        payment.payment_ref = "pi_" + secrets.token_hex(12)
        payment.paid_at = timezone.now()
        payment.save(update_fields=["status", "payment_ref", "paid_at"])
        event_id = "evt_" + secrets.token_hex(12)
        for delay in (self.DELAYS["first"], self.DELAYS["duplicate"]):
            self._event(payment, "payment.succeeded", delay=delay, event_id=event_id)
        # An event from checkout time, delivered last: out of order, and it must not undo the payment.
        self._event(payment, "payment.pending", delay=self.DELAYS["stale"],
                    created=int(payment.created_at.timestamp()))
        return payment

    def _event(self, payment: SandboxPayment, type_: str, *, delay: int, event_id: str | None = None,
               extra: dict[str, Any] | None = None, created: int | None = None) -> SandboxWebhook:
        body = {
            "id": event_id or "evt_" + secrets.token_hex(12),
            "type": type_,
            "created": created or int(time.time()),
            "data": {"session": payment.session_ref, "payment": payment.payment_ref, "amount": str(payment.amount),
                     "merchant_reference": payment.merchant_reference, **(extra or {})},
        }
        hook = SandboxWebhook.objects.create(
            event_id=body["id"], type=type_, body=json.dumps(body, separators=(",", ":")), url=payment.notify_url,
            send_after=timezone.now() + dt.timedelta(seconds=delay))
        # tasks.py queues its delivery (after commit); the periodic sweep delivers whatever is due anyway.
        transaction.on_commit(lambda: webhook_queued.send(sender=SandboxWebhook, webhook_id=hook.pk, delay=delay))
        return hook


def deliver(hook: SandboxWebhook, *, send=None, secret: str | None = None) -> int:  # noqa: ANN001
    """POST one webhook, signed at send time. `send(url, body, headers) -> status` (httpx by default)."""
    body = hook.body.encode()
    headers = {"Content-Type": "application/json",
               SIGNATURE_HEADER: sign(body, secret=secret or settings.PAYMENT_WEBHOOK_SECRET)}
    if send is None:
        import httpx  # only where a webhook is really sent (tests pass their own `send`)

        def send(url: str, content: bytes, hdrs: dict[str, str]) -> int:
            return httpx.post(url, content=content, headers=hdrs, timeout=10).status_code

    try:
        status = send(hook.url, body, headers)
    except Exception:
        status = 0
    SandboxWebhook.objects.filter(pk=hook.pk).update(
        attempts=hook.attempts + 1, last_status=status,
        delivered_at=timezone.now() if 200 <= status < 300 else None,
        # retry with backoff until accepted, as gateways do
        send_after=timezone.now() + dt.timedelta(seconds=min(3600, 10 * 2 ** hook.attempts)))
    return status


def deliver_due(*, now: dt.datetime | None = None, send=None, limit: int = 200) -> int:  # noqa: ANN001
    now = now or timezone.now()
    hooks = list(SandboxWebhook.objects.filter(delivered_at__isnull=True, send_after__lte=now, attempts__lt=12)
                 .order_by("send_after", "id")[:limit])
    for hook in hooks:
        deliver(hook, send=send)
    return len(hooks)


_PROVIDERS: dict[str, PaymentProvider] = {"sandbox": SandboxGateway()}


def get_provider(name: str = "sandbox") -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise UnknownSession(f"Unknown payment provider {name!r}.")
