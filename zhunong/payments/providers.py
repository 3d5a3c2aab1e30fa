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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhunong.core.errors import DomainError

from .errors import (
    GatewayError,
    InvalidSignature,
    NotifyAmountMismatch,
    PaymentsUnavailable,
    StaleSignature,
    UnknownSession,
)
from .models import PaymentSession, SandboxPayment, SandboxRefund, SandboxWebhook
from .signals import webhook_queued

SIGNATURE_HEADER = "Zhunong-Signature"
# Alipay reads times in China's time zone.
CHINA = ZoneInfo("Asia/Shanghai")
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


class AlipayGateway(PaymentProvider):
    """Alipay's open platform (python-alipay-sdk, RSA2 in public-key mode).

    - Checkout: `out_trade_no` is our session reference; the buyer goes to `/pay/alipay/<ref>/`, which
      redirects to a freshly signed `alipay.trade.page.pay` URL (`page_pay_url`), so a reused session
      never carries a stale request timestamp.
    - Notifications (the async notify, form-encoded, answered with the text "success"): the RSA2 signature
      must verify with Alipay's public key, the `app_id` must be ours (Alipay signs every merchant's
      notifications with the same key), the trade must be one of our sessions and its `total_amount` the
      session's amount. The event id is `notify_id`, so a replayed notification is a duplicate; a trade
      already applied to its order is "already_applied" (services.apply_payment).
    - Query and refund: synchronous signed calls whose answers are verified by the SDK; `out_request_no`
      is the refund's reference, so a retried refund never pays twice.
    """

    name = "alipay"
    PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")
    GATEWAYS = {False: "https://openapi.alipay.com/gateway.do",
                True: "https://openapi-sandbox.dl.alipaydev.com/gateway.do"}

    def __init__(self, *, app_id: str, app_private_key: str, alipay_public_key: str, debug: bool = False) -> None:
        from alipay import AliPay  # only where Alipay is configured

        self.app_id = app_id
        self.gateway = self.GATEWAYS[bool(debug)]
        self.client = AliPay(appid=app_id, app_private_key_string=app_private_key,
                             alipay_public_key_string=alipay_public_key, sign_type="RSA2", debug=debug)

    @classmethod
    def from_settings(cls) -> AlipayGateway:
        def read(path: str) -> str:
            try:
                return Path(path).read_text()
            except OSError:
                raise PaymentsUnavailable("The Alipay key files cannot be read.")

        if not (settings.ALIPAY_APP_ID and settings.ALIPAY_APP_PRIVATE_KEY_FILE and settings.ALIPAY_PUBLIC_KEY_FILE):
            raise PaymentsUnavailable("Alipay needs ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY_FILE and "
                                      "ALIPAY_PUBLIC_KEY_FILE.")
        return cls(app_id=settings.ALIPAY_APP_ID, app_private_key=read(settings.ALIPAY_APP_PRIVATE_KEY_FILE),
                   alipay_public_key=read(settings.ALIPAY_PUBLIC_KEY_FILE), debug=settings.ALIPAY_DEBUG)

    def create_session(self, *, merchant_reference: str, amount: Decimal, expires_at: dt.datetime,
                       notify_url: str, return_url: str) -> ProviderSession:
        ref = "zn" + secrets.token_hex(15)  # out_trade_no: letters and digits, at most 64
        return ProviderSession(session_ref=ref, pay_url=f"{settings.PUBLIC_BASE_URL}/pay/alipay/{ref}/")

    def page_pay_url(self, *, session_ref: str, merchant_reference: str, amount: Decimal, expires_at: dt.datetime,
                     notify_url: str, return_url: str) -> str:
        """The signed `alipay.trade.page.pay` request the buyer's browser is sent to."""
        query = self.client.api_alipay_trade_page_pay(
            subject=f"助农订单 {merchant_reference}", out_trade_no=session_ref, total_amount=f"{amount:.2f}",
            return_url=return_url, notify_url=notify_url,
            time_expire=timezone.localtime(expires_at, CHINA).strftime("%Y-%m-%d %H:%M:%S"))
        return f"{self.gateway}?{query}"

    def _call(self, api: str, **kwargs: Any) -> dict[str, Any]:
        from alipay.exceptions import AliPayException, AliPayValidationError

        try:
            return getattr(self.client, api)(**kwargs)
        except AliPayValidationError:
            raise GatewayError("Alipay's answer is not signed by Alipay.", details={"api": api})
        except AliPayException as exc:
            raise GatewayError(details={"api": api, "error": str(exc)[:200]})

    def query(self, *, session_ref: str) -> ProviderStatus:
        answer = self._call("api_alipay_trade_query", out_trade_no=session_ref)
        if answer.get("code") == "10000":
            trade_status = answer.get("trade_status")
            status = ("succeeded" if trade_status in self.PAID else
                      "expired" if trade_status == "TRADE_CLOSED" else "pending")
            return ProviderStatus(status=status, payment_ref=str(answer.get("trade_no", ""))[:64],
                                  amount=Decimal(str(answer.get("total_amount", "0"))))
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":  # the buyer never opened the pay page
            session = PaymentSession.objects.filter(provider=self.name, session_ref=session_ref).first()
            expired = session is None or session.expires_at <= timezone.now()
            return ProviderStatus(status="expired" if expired else "pending", payment_ref="", amount=Decimal("0"))
        raise GatewayError(details={"api": "trade.query", "code": answer.get("code"),
                                    "sub_code": answer.get("sub_code")})

    def refund(self, *, payment_ref: str, amount: Decimal, reference: str) -> ProviderRefund:
        answer = self._call("api_alipay_trade_refund", refund_amount=f"{amount:.2f}", trade_no=payment_ref,
                            out_request_no=reference)
        if answer.get("code") != "10000":
            raise GatewayError("Alipay refused the refund.", details={
                "api": "trade.refund", "code": answer.get("code"), "sub_code": answer.get("sub_code")})
        # A repeated out_request_no answers 10000 again without moving money (fund_change "N"): same refund.
        return ProviderRefund(refund_ref=f"{payment_ref}/{reference}"[:64], status="succeeded")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidSignature("Not an Alipay notification.")
        if len(pairs) != len({key for key, _ in pairs}):
            raise InvalidSignature("A field appears twice.")
        data = dict(pairs)
        signature = data.pop("sign", "")
        if not signature or data.get("sign_type", "RSA2") != "RSA2":
            raise InvalidSignature()
        try:
            valid = self.client.verify(dict(data), signature)
        except Exception:  # a malformed base64 signature, an unknown sign type
            valid = False
        if not valid:
            raise InvalidSignature()
        if data.get("app_id") != self.app_id:
            raise InvalidSignature("Signed by Alipay, but for another merchant's app.")
        notify_id = data.get("notify_id", "")
        if not notify_id:
            raise InvalidSignature("Signed, but not a notification (no notify_id).")
        ref = data.get("out_trade_no", "")
        session = PaymentSession.objects.filter(provider=self.name, session_ref=ref).first()
        try:
            amount = Decimal(data.get("total_amount", ""))
        except ArithmeticError:
            raise NotifyAmountMismatch(details={"out_trade_no": ref[:64]})
        if session is not None and amount != session.amount:
            raise NotifyAmountMismatch(details={"out_trade_no": ref[:64], "amount": str(amount)[:20],
                                                "expected": str(session.amount)})
        trade_status = data.get("trade_status", "")
        type_ = "payment.succeeded" if trade_status in self.PAID else f"alipay.{trade_status.lower()}"[:40]
        return WebhookEvent(id=notify_id[:64], type=type_, created=int(time.time()),
                            data={"session": ref, "payment": data.get("trade_no", ""), "amount": str(amount)},
                            raw=data)


def sandbox_allowed() -> bool:
    """The sandbox gateway runs only when chosen, and with DEBUG off only in demo mode (ZHUNONG_DEMO=1)."""
    return settings.PAYMENT_PROVIDER == "sandbox" and (settings.DEBUG or settings.DEMO)


_SANDBOX = SandboxGateway()
_ALIPAY: dict[tuple, AlipayGateway] = {}


def get_provider(name: str | None = None) -> PaymentProvider:
    """The configured provider (settings.PAYMENT_PROVIDER), or the one named, which must be the configured
    one: a session opened with a provider the platform no longer runs cannot be paid or refunded through
    it. Raises PaymentsUnavailable (503) otherwise, and for the sandbox outside DEBUG or demo mode."""
    configured = settings.PAYMENT_PROVIDER
    name = configured if name is None else name
    if name == "sandbox" and not sandbox_allowed():
        raise PaymentsUnavailable("The sandbox payment gateway runs only when chosen (ZHUNONG_PAYMENT_PROVIDER="
                                  "sandbox), and with DEBUG off only in demo mode (ZHUNONG_DEMO=1).",
                                  details={"provider": name})
    if not name or name != configured:
        raise PaymentsUnavailable(details={"provider": name or ""})
    if name == "sandbox":
        return _SANDBOX
    if name == "alipay":
        key = (settings.ALIPAY_APP_ID, settings.ALIPAY_APP_PRIVATE_KEY_FILE, settings.ALIPAY_PUBLIC_KEY_FILE,
               settings.ALIPAY_DEBUG)
        if key not in _ALIPAY:
            _ALIPAY.clear()
            _ALIPAY[key] = AlipayGateway.from_settings()
        return _ALIPAY[key]
    raise PaymentsUnavailable(f"Unknown payment provider {name!r}.", details={"provider": name[:20]})
