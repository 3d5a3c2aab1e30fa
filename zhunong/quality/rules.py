"""Pure rules of the trace chain, shared by services (writes) and selectors (reads); no queries."""

from __future__ import annotations

import re
from decimal import Decimal

# GS1 AI (10) batch/lot: up to 20 characters; we accept the URL-safe subset so lots can sit in a
# Digital Link path (/01/{gtin}/10/{lot}) and in a URN unchanged.
LOT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
# jin (斤) and kg convert; other units (boxes, bags, heads, pieces) are counted as they are.
KG_PER_UNIT = {"kg": Decimal("1"), "jin": Decimal("0.5")}


def is_valid_lot(value: str) -> bool:
    return bool(LOT_PATTERN.fullmatch(value or ""))


def in_unit(quantity: Decimal, unit: str, target: str) -> Decimal | None:
    """`quantity` of `unit` expressed in `target`, or None when the two units do not convert."""
    if unit == target:
        return quantity
    if unit in KG_PER_UNIT and target in KG_PER_UNIT:
        return quantity * KG_PER_UNIT[unit] / KG_PER_UNIT[target]
    return None
