"""JSON API of payments (mounted under /api/v1): starting to pay an order, and the sandbox gateway's
webhook endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field

from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.orders import selectors as orders
from zhunong.orders.errors import NotYourOrder, OrderNotFound, ReservationExpired

from . import services
from .errors import (
    GatewayError,
    InvalidSignature,
    OrderNotPayable,
    PaymentsUnavailable,
    StaleSignature,
    UnknownSession,
)
from .providers import SIGNATURE_HEADER

router = Router(tags=["payments"])


class PaymentSessionOut(Schema):
    session_id: str
    provider: str
    pay_url: str
    amount: str = Field(pattern=r"^-?\d+\.\d{2}$")
    status: Literal["open", "paid", "expired"]
    expires_at: dt.datetime


class WebhookOut(Schema):
    received: bool
    outcome: str


_WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["id", "type", "created", "data"],
            "properties": {
                "id": {"type": "string"}, "type": {"type": "string"}, "created": {"type": "integer"},
                "data": {"type": "object"},
            },
        }}},
    },
    "parameters": [{"in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
                    "description": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' with the shared secret>"}],
}


@router.post("/payments/sandbox/webhook", response=responses(
                 {200: WebhookOut}, InvalidSignature, StaleSignature, UnknownSession, (409, "session_expired"),
                 OrderNotPayable, PaymentsUnavailable), auth=None,
             summary="Webhook of the sandbox payment gateway (HMAC-signed)", openapi_extra=_WEBHOOK_BODY)
def sandbox_webhook(request: HttpRequest):  # noqa: ANN201
    """Events are verified (signature, at most 5 minutes old), stored once per event id and applied once:
    duplicates, replays and stale out-of-order events change nothing. Forged → 400 `invalid_signature`;
    503 `payments_unavailable` where the sandbox does not run (docs/decisions/0007-payment-provider.md)."""
    outcome = services.handle_webhook(provider_name="sandbox", body=request.body, headers=request.headers)
    return {"received": True, "outcome": outcome}


@router.post("/orders/{order_id}/pay", response=responses(
                 {201: PaymentSessionOut}, OrderNotFound, NotYourOrder, ReservationExpired, OrderNotPayable,
                 (409, "session_expired"), PaymentsUnavailable, GatewayError),
             auth=auth_required, tags=["orders"], summary="Start paying: a payment session with the gateway")
def pay_order(request: HttpRequest, order_id: int = Path(..., ge=1, le=2**53)):  # noqa: ANN201
    order = orders.order_for(request.auth, order_id)
    session = services.start_checkout(order=order, actor=request.auth)
    return Status(201, {"session_id": session.session_ref, "provider": session.provider,
                        "pay_url": session.pay_url, "amount": orders.money(session.amount),
                        "status": session.status, "expires_at": session.expires_at})
