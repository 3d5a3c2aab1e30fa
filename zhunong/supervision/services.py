"""Writes for the integrity office."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from .models import IntegrityFlag


@transaction.atomic
def raise_flag(*, kind: str, summary: str, subject: models.Model | None = None, region=None,  # noqa: ANN001
               details: dict[str, Any] | None = None, raised_by=None) -> IntegrityFlag:  # noqa: ANN001
    return IntegrityFlag.objects.create(
        kind=kind,
        summary=summary[:300],
        details=details or {},
        region=region,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        raised_by=raised_by if getattr(raised_by, "is_authenticated", False) else None,
    )
