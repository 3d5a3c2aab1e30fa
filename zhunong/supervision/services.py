"""Writes for the integrity office: raising flags (from concerns and detectors) and the office's reviews."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import HttpRequest

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.audit import record_action
from zhunong.core.errors import ValidationFailed
from zhunong.core.integrity import refusals_recorded
from zhunong.core.text import clean_text

from .errors import FlagAlreadyReviewed, FlagEvidenceMissing, FlagNotFound, NotReviewer, ReviewerOutsideRegion
from .models import FlagReview, IntegrityFlag
from .selectors import evidence_order_pks


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


# --- the office's review of a flag ---------------------------------------------------------------------

REVIEW_REASON_MAX = 2000


def _flag_scope(flag: IntegrityFlag) -> policy.Scope:
    # A flag without a region concerns the platform as a whole: no county office covers it.
    return policy.Scope(regions=(flag.region,) if flag.region_id else ())


def _evidence_gone(flag: IntegrityFlag) -> list[str]:
    """What the flag rests on that no longer exists: its subject, or orders its evidence names."""
    gone: list[str] = []
    if flag.subject_type_id and flag.subject_id:
        model = flag.subject_type.model_class()
        if model is None or not model._default_manager.filter(pk=flag.subject_id).exists():
            gone.append(f"subject {flag.subject_type.model} #{flag.subject_id}")
    return gone + evidence_order_pks(flag)[1]


@refusals_recorded("supervision.review_refused", NotReviewer, ReviewerOutsideRegion, FlagAlreadyReviewed,
                   FlagEvidenceMissing)
@transaction.atomic
def review_flag(*, actor: User, flag: IntegrityFlag | int, decision: str, reason: str,
                request: HttpRequest | None = None) -> FlagReview:
    """The discipline-inspection office of the flag's region confirms (属实) or dismisses (不属实) it, with a
    reason. One review per flag, kept as given; a refusal changes nothing and is itself audited."""
    flag_id = flag.pk if isinstance(flag, IntegrityFlag) else flag
    flag = (IntegrityFlag.objects.select_for_update(of=("self",)).select_related("region", "subject_type")
            .filter(pk=flag_id).first())
    if flag is None:
        raise FlagNotFound(details={"flag_id": flag_id})
    policy.require(actor, "integrity.review", _flag_scope(flag), error=NotReviewer, outside=ReviewerOutsideRegion)
    if decision not in FlagReview.Decision.values:
        raise ValidationFailed("decision: confirmed or dismissed.", details={"field": "decision"})
    reason = clean_text(reason, field="reason", max_length=REVIEW_REASON_MAX, multiline=True)
    if FlagReview.objects.filter(flag=flag).exists() or flag.status != IntegrityFlag.Status.OPEN:
        raise FlagAlreadyReviewed(details={"flag_id": flag.pk, "status": flag.status})
    gone = _evidence_gone(flag)
    if gone:
        raise FlagEvidenceMissing(details={"flag_id": flag.pk, "missing": gone})
    review = FlagReview.objects.create(flag=flag, decision=decision, reason=reason, reviewer=actor)
    before = flag.status
    flag.status = decision  # the decisions are the flag's closed statuses, by design
    flag.save(update_fields=["status"])
    record_action(actor=actor, action="supervision.flag_reviewed", subject=flag, region=flag.region,
                  before={"status": before}, after={"status": decision, "reason": reason}, request=request)
    return review
