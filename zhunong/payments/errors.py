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
