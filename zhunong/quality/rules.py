"""Pure rules of the trace chain, shared by services (writes) and selectors (reads); no queries."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import IO

# Inspection certificates: the kinds accepted, told apart by their first bytes (never by name or declared
# type), with the content type and extension they are stored and served under.
CERTIFICATE_KINDS = {
    "pdf": (b"%PDF-", "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
}

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


def certificate_kind(head: bytes) -> str | None:
    """"pdf", "png" or "jpg" by the file's first bytes; None for anything else (SVG, HTML, ...)."""
    for kind, (magic, _mime) in CERTIFICATE_KINDS.items():
        if head.startswith(magic):
            return kind
    return None


def image_is_valid(file: IO[bytes], kind: str) -> bool:
    """Pillow decodes the whole image as the kind its magic bytes claim."""
    from PIL import Image

    try:
        file.seek(0)
        with Image.open(file) as image:
            if image.format != {"png": "PNG", "jpg": "JPEG"}[kind]:
                return False
            image.verify()
        file.seek(0)
        with Image.open(file) as image:
            image.load()
    except Exception:  # noqa: BLE001 - any decoding failure means "not a valid image"
        return False
    finally:
        file.seek(0)
    return True
