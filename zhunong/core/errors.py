"""Domain errors with stable machine-readable codes.

Services raise these; the API turns them into `{"code": ..., "message": ..., "details": ...}` with
the error's HTTP status, and views show the message. Each app lists its own codes in `errors.py`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422
    message = "Invalid input."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = "Not found."


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    message = "You are not allowed to do this."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "The request conflicts with the current state."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "This state change is not allowed."


class UnknownExportFormat(ValidationFailed):
    # core.exports: a table downloads as csv or xlsx only.
    code = "unknown_export_format"
    message = "Export as csv or xlsx."
