"""Reading the audit log (core.AuditEntry): who may see which entries, and the page's filters.

The log is written by core.audit.record_action only; here it is only read. Platform admins see every entry;
the discipline-inspection office ("audit.view", region scope) sees the entries of its region's subtree.
Entries without a region (a system-wide action) are the platform admins' alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from zhunong.core.audit import ACTIONS
from zhunong.core.errors import ValidationFailed
from zhunong.core.models import AuditEntry

from . import policy
from .models import User
from .selectors import region_q

MAX_DAYS = 3 * 366  # the filters reach back as far as the log is kept


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    subject_type: str = ""
    subject_id: str = ""
    outcome: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def entries_visible_to(user: User) -> QuerySet[AuditEntry]:
    if not policy.may_hold(user, "audit.view"):
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.select_related("region", "actor").order_by("-at", "-id")
    restrict = region_q(user, "region")
    return qs if restrict is None else qs.filter(restrict)


def parse_filter(params: dict[str, str]) -> AuditFilter:
    """The page's query string as a filter; a bad value is a ValidationFailed naming its field."""
    def text(name: str, limit: int) -> str:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            raise ValidationFailed(f"{name}: at most {limit} characters.", details={"field": name})
        return value

    def day(name: str) -> dt.date | None:
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{name}: a date YYYY-MM-DD.", details={"field": name}) from None

    action = text("action", 64)
    if action and action not in ACTIONS:
        raise ValidationFailed("action: not an audited action.", details={"field": "action"})
    outcome = text("outcome", 8)
    if outcome and outcome not in AuditEntry.Outcome.values:
        raise ValidationFailed("outcome: done or refused.", details={"field": "outcome"})
    since, until = day("since"), day("until")
    if since and until and since > until:
        raise ValidationFailed("since: after until.", details={"field": "since"})
    return AuditFilter(action=action, actor=text("actor", 150), subject_type=text("subject_type", 100),
                       subject_id=text("subject_id", 64), outcome=outcome, since=since, until=until)


def apply_filter(qs: QuerySet[AuditEntry], f: AuditFilter) -> QuerySet[AuditEntry]:
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor:
        qs = qs.filter(actor_label=f.actor)
    if f.subject_type:
        qs = qs.filter(subject_type=f.subject_type)
    if f.subject_id:
        qs = qs.filter(subject_id=f.subject_id)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(at__gte=dt.datetime.combine(f.since, dt.time.min, tzinfo=tz))
    if f.until:
        qs = qs.filter(at__lt=dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
