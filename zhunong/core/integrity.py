"""Integrity concerns: how an app reports something the county's integrity office must look at.

The supervision app sits above the apps that notice abuse (catalog: prices under the cost floor; live:
gifts to officials; orders: abandoned or refunded orders, below-cost flash sales), so they never import
it. They call `report_concern` inside their own transaction; supervision's receiver records the flag in
that same transaction, so a rolled-back write leaves no flag behind.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from .audit import REFUSED, record_action
from .errors import DomainError


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


F = TypeVar("F", bound=Callable[..., Any])


def refusals_recorded(action: str, *errors: type[DomainError], actor: str = "actor",
                      subject: str | None = None) -> Callable[[F], F]:
    """Record each refusal of a rule (one of `errors`) in the audit log with outcome "refused": who (the
    `actor` keyword argument), what (`action`, the `subject` keyword argument, the error's code and details)
    and when. Put it outside the service's `@transaction.atomic`, so the entry is written after the refused
    transaction has rolled back and is not taken along with it. (A caller that wraps the call in its own
    transaction and rolls that back takes the entry too; pages and the API do not.)"""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            try:
                return func(*args, **kwargs)
            except errors as refused:
                target = kwargs.get(subject) if subject else None
                record_action(actor=kwargs.get(actor), action=action,
                              subject=target if isinstance(target, models.Model) else None, outcome=REFUSED,
                              after={"code": refused.code, "message": str(refused.message),
                                     "details": refused.details})
                raise

        return wrapper  # type: ignore[return-value]

    return decorate
