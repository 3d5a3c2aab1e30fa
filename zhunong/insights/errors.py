"""Stable error codes of the data centre (insights)."""

from zhunong.core.errors import NotFound, PermissionDenied, ValidationFailed


class InvalidDateRange(ValidationFailed):
    code = "invalid_date_range"
    message = "Give a start and an end date (YYYY-MM-DD), the start not after the end, at most 3 years apart."


class NotInYourRegion(PermissionDenied):
    code = "outside_region"
    message = "This is outside your region."


class DashboardNotFound(NotFound):
    code = "dashboard_not_found"
    message = "No such stream, host, product, producer or region."


class ImportRejected(ValidationFailed):
    # details: {"errors": [{"line": n, "reason": "..."}]}; nothing of the file was imported.
    code = "import_rejected"
    message = "The file was not imported: each bad row is listed with its line and reason."


class UnknownImportSource(ValidationFailed):
    code = "unknown_import_source"
    message = "Unknown source of the order export."
