"""Reads for the integrity office."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q

from .models import IntegrityFlag


def flags_visible_to(user: User) -> QuerySet[IntegrityFlag]:
    """A platform admin sees every flag; other staff the flags of their region's subtree. A flag without
    a region concerns the whole platform: platform admins only."""
    qs = IntegrityFlag.objects.select_related("region", "raised_by")
    if not user.is_authenticated:
        return qs.none()
    q = region_q(user, "region")
    return qs if q is None else qs.filter(q)


def flagged_recently(*, kind: str, subject: models.Model, within: dt.timedelta) -> bool:
    """A flag of this kind about this subject was raised within `within`."""
    return IntegrityFlag.objects.filter(
        kind=kind, created_at__gte=timezone.now() - within,
        subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)).exists()
