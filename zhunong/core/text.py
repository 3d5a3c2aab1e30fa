"""Validation shared by every form, API schema and service that takes free text or amounts."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .errors import ValidationFailed

# C0/C1 control characters except tab, newline and carriage return; also the Unicode line/paragraph
# separators and bidi overrides that make text render differently from what was stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = True,
               multiline: bool = False) -> str:
    """Strip, reject control characters and over-long text; return the NFC-normalised value."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field}: must be text.", details={"field": field})
    value = unicodedata.normalize("NFC", value.strip())
    if required and not value:
        raise ValidationFailed(f"{field}: is required.", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(f"{field}: at most {max_length} characters.", details={"field": field})
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise ValidationFailed(f"{field}: contains control characters.", details={"field": field})
    return value


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def clean_decimal(value: object, *, field: str, min_value: Decimal | None = Decimal("0"),
                  max_value: Decimal = Decimal("99999999"), allow_zero: bool = False,
                  places: int = 2) -> Decimal:
    """Parse a money or quantity amount: numeric, finite, within bounds, at most `places` decimals."""
    if isinstance(value, bool):
        raise ValidationFailed(f"{field}: must be a number.", details={"field": field})
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{field}: must be a number.", details={"field": field})
    if not amount.is_finite():
        raise ValidationFailed(f"{field}: must be a finite number.", details={"field": field})
    if min_value is not None and (amount < min_value or (amount == 0 and not allow_zero)):
        raise ValidationFailed(f"{field}: must be positive.", details={"field": field})
    if amount > max_value:
        raise ValidationFailed(f"{field}: at most {max_value}.", details={"field": field})
    if amount.as_tuple().exponent < -places:  # type: ignore[operator]
        raise ValidationFailed(f"{field}: at most {places} decimal places.", details={"field": field})
    return amount
