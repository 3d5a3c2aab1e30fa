"""Stable error codes of payments and webhooks."""

from zhunong.core.errors import Conflict, DomainError, NotFound


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status = 400
    message = "The webhook signature is missing or wrong."


class StaleSignature(DomainError):
    code = "stale_signature"
    status = 400
    message = "The webhook signature is too old (a replay?)."


class UnknownSession(NotFound):
    code = "unknown_session"
    message = "No such payment session."


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = "Only a reserved order within its payment deadline can be paid."


class PaymentsUnavailable(DomainError):
    code = "payments_unavailable"
    status = 503
    message = "Payments are not available: no payment provider is configured."


class NotifyAmountMismatch(DomainError):
    code = "notify_amount_mismatch"
    status = 400
    message = "The payment notification's amount differs from the order's."


class GatewayError(DomainError):
    code = "gateway_error"
    status = 502
    message = "The payment provider refused or could not answer the request."
