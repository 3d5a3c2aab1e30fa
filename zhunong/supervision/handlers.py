"""Supervision listens to the concerns the lower apps report (core.integrity)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import IntegrityFlag
from .services import raise_flag


def record_concern(*, kind: str, summary: str, subject: models.Model | None, region: Any,
                   details: dict[str, Any], raised_by: Any, once_within: dt.timedelta | None,
                   **_: Any) -> None:
    if once_within is not None and subject is not None:
        already = IntegrityFlag.objects.filter(
            kind=kind, created_at__gte=timezone.now() - once_within,
            subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)).exists()
        if already:
            return
    raise_flag(kind=kind, summary=summary, subject=subject, region=region, details=details,
               raised_by=raised_by)
