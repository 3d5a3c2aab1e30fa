"""Integrity concerns: how an app reports something the county's integrity office must look at.

The supervision app sits above the apps that notice abuse (catalog: prices under the cost floor; live:
gifts to officials; orders: abandoned or refunded orders, below-cost flash sales), so they never import
it. They call `report_concern` inside their own transaction; supervision's receiver records the flag in
that same transaction, so a rolled-back write leaves no flag behind.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _


class ConcernKind(models.TextChoices):
    BELOW_COST = "below_cost", _("低于成本销售")
    QUOTA = "quota", _("摊派/强制消费")
    INFLATED_TRAFFIC = "inflated_traffic", _("流量注水")
    FAKE_ORDER = "fake_order", _("虚假下单/刷单")
    GIFT_TO_OFFICIAL = "gift_to_official", _("向公职人员打赏")
    OTHER = "other", _("其他")


# Sent with: kind, summary, subject (a model instance or None), region (a producers.Region or None),
# details (dict), raised_by (a user or None), once_within (a timedelta or None).
concern_raised = Signal()


def report_concern(*, kind: ConcernKind | str, summary: str, subject: models.Model | None = None,
                   region: models.Model | None = None, details: dict[str, Any] | None = None,
                   raised_by: Any = None, once_within: dt.timedelta | None = None) -> None:
    """Ask the integrity office to look at something. `once_within` collapses repeats: no new flag
    when one of the same kind about the same subject was raised within that time."""
    if kind not in ConcernKind.values:
        raise ValueError(f"unknown integrity concern {kind!r}")
    concern_raised.send(sender=report_concern, kind=str(kind), summary=summary, subject=subject,
                        region=region, details=details or {}, raised_by=raised_by, once_within=once_within)
