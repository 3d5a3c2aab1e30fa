"""JSON API of payments: the sandbox gateway's webhook endpoint (mounted under /api/v1)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from . import services
from .providers import SIGNATURE_HEADER

router = Router(tags=["payments"])


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | None = None


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


@router.post("/payments/sandbox/webhook", response={200: WebhookOut, 400: ErrorOut}, auth=None,
             summary="Webhook of the sandbox payment gateway (HMAC-signed)", openapi_extra=_WEBHOOK_BODY)
def sandbox_webhook(request: HttpRequest):  # noqa: ANN201
    """Events are verified (signature, at most 5 minutes old), stored once per event id and applied once:
    duplicates, replays and stale out-of-order events change nothing. Forged → 400 `invalid_signature`."""
    outcome = services.handle_webhook(provider_name="sandbox", body=request.body, headers=request.headers)
    return {"received": True, "outcome": outcome}
