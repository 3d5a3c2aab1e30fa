"""Supervision listens to the concerns the lower apps report (core.integrity)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from .selectors import flagged_recently
from .services import raise_flag


def record_concern(*, kind: str, summary: str, subject: models.Model | None, region: Any,
                   details: dict[str, Any], raised_by: Any, once_within: dt.timedelta | None,
                   **_: Any) -> None:
    # `once_within` collapses repeats: one flag per kind and subject within that time.
    repeat = once_within is not None and subject is not None and flagged_recently(
        kind=kind, subject=subject, within=once_within)
    if repeat:
        return
    raise_flag(kind=kind, summary=summary, subject=subject, region=region, details=details,
               raised_by=raised_by)
