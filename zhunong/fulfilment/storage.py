"""Where after-sales photos are kept: AFTER_SALES_PHOTO_ROOT (default var/after-sales), outside MEDIA_ROOT.

A buyer's evidence (a damaged box at their door, their handwriting on the slip) is for the buyer and whoever
decides the request, so nothing serves this folder: fulfilment's photo view hands each file out after
checking who asks (docs/decisions/0031-after-sales-photos-and-reasons.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def photo_root() -> Path:
    return Path(getattr(settings, "AFTER_SALES_PHOTO_ROOT", settings.VAR_DIR / "after-sales"))


def photo_storage() -> FileSystemStorage:
    return FileSystemStorage(location=photo_root(), base_url=None)
