"""The integrity office's JSON API: flags of the caller's region, the office's reviews, and approvals of
public servants' streams. Parse -> authorise -> call the service -> respond (docs/api.md "Integrity office")."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from zhunong.accounts import policy
from zhunong.accounts.api import Id, text_field
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.schemas import RequestSchema
from zhunong.live import approvals
from zhunong.live.errors import ApprovalNotNeeded, ApproverOutsideRegion, NotApprover, StreamNotScheduled
from zhunong.live.models import Stream, StreamApproval

from . import selectors, services
from .errors import (
    FlagAlreadyReviewed,
    FlagEvidenceMissing,
    FlagNotFound,
    NotOffice,
    NotReviewer,
    ReviewerOutsideRegion,
    StreamNotFound,
)
from .models import FlagReview, IntegrityFlag

router = Router(tags=["integrity"])

Kind = Literal["below_cost", "quota", "inflated_traffic", "fake_order", "gift_to_official", "other"]
FlagStatus = Literal["open", "confirmed", "dismissed"]


class IntegrityReviewOut(Schema):
    decision: Literal["confirmed", "dismissed"]
    reason: str
    reviewer: str
    reviewed_at: dt.datetime


class IntegrityFlagOut(Schema):
    id: int
    kind: Kind
    status: FlagStatus
    summary: str
    detector: str
    score: float | None
    stream_id: int | None
    region_code: str | None
    created_at: dt.datetime
    evidence: dict[str, Any]
    details: dict[str, Any]
    review: IntegrityReviewOut | None


class IntegrityFlagQuery(Schema):
    kind: Kind | None = None
    status: FlagStatus | None = None
    stream_id: Id | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class IntegrityReviewIn(RequestSchema):
    decision: Literal["confirmed", "dismissed"]
    reason: str = text_field(..., max_length=services.REVIEW_REASON_MAX, required=True, multiline=True,
                             description="Why the office confirms or dismisses the flag; kept with the review.")


class StreamApprovalIn(RequestSchema):
    approve: bool
    reason: str = text_field(..., max_length=approvals.REASON_MAX, required=True, multiline=True,
                             description="The office's grounds: host, products and prices checked.")


class StreamApprovalOut(Schema):
    id: int
    stream_id: int
    decision: Literal["approved", "refused"]
    approver: str
    reason: str
    decided_at: dt.datetime
    covers: dict[str, Any]


def _review_out(review: FlagReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {"decision": review.decision, "reason": review.reason, "reviewer": str(review.reviewer),
            "reviewed_at": review.reviewed_at}


def _flag_out(flag: IntegrityFlag) -> dict[str, Any]:
    stream = selectors.stream_of(flag)
    return {"id": flag.pk, "kind": flag.kind, "status": flag.status, "summary": flag.summary,
            "detector": flag.detector, "score": flag.score, "stream_id": stream.pk if stream else None,
            "region_code": flag.region.code if flag.region_id else None, "created_at": flag.created_at,
            "evidence": flag.evidence or {}, "details": flag.details or {},
            "review": _review_out(getattr(flag, "review", None) if hasattr(flag, "review") else None)}


def _require_office(request: HttpRequest) -> None:
    if not policy.may_hold(request.auth, "integrity.view"):
        raise NotOffice()


@router.get("/integrity/flags", response=responses({200: list[IntegrityFlagOut]}, NotOffice), auth=auth_required)
def list_flags(request: HttpRequest, filters: Query[IntegrityFlagQuery]):  # noqa: ANN201
    """The flags of the caller's region, newest first (discipline inspectors, regulators, platform admins)."""
    _require_office(request)
    flags = selectors.office_flags(request.auth, kind=filters.kind or "", status=filters.status or "",
                                   stream_id=filters.stream_id)
    return [_flag_out(f) for f in flags[filters.offset:filters.offset + filters.limit]]


@router.get("/integrity/flags/{flag_id}", response=responses({200: IntegrityFlagOut}, NotOffice, FlagNotFound),
            auth=auth_required)
def get_flag(request: HttpRequest, flag_id: Id):  # noqa: ANN201
    _require_office(request)
    flag = selectors.office_flags(request.auth).filter(pk=flag_id).first()
    if flag is None:
        raise FlagNotFound()
    return _flag_out(flag)


@router.post("/integrity/flags/{flag_id}/review",
             response=responses({201: IntegrityReviewOut}, FlagNotFound, NotReviewer, ReviewerOutsideRegion,
                                FlagAlreadyReviewed, FlagEvidenceMissing),
             auth=auth_required)
def review_flag(request: HttpRequest, flag_id: Id, payload: IntegrityReviewIn):  # noqa: ANN201
    """Confirm or dismiss a flag, with a reason. One review per flag; it cannot be changed afterwards."""
    review = services.review_flag(actor=request.auth, flag=flag_id, decision=payload.decision,
                                  reason=payload.reason, request=request)
    return Status(201, _review_out(review))


@router.post("/integrity/streams/{stream_id}/approval",
             response=responses({201: StreamApprovalOut}, StreamNotFound, NotApprover, ApproverOutsideRegion,
                                ApprovalNotNeeded, StreamNotScheduled),
             auth=auth_required)
def decide_approval(request: HttpRequest, stream_id: Id, payload: StreamApprovalIn):  # noqa: ANN201
    """Approve (or refuse) a public servant's scheduled stream as it is now: host, shelf and prices."""
    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        raise StreamNotFound()
    approval: StreamApproval = approvals.decide(actor=request.auth, stream=stream, approve=payload.approve,
                                                reason=payload.reason)
    return Status(201, {"id": approval.pk, "stream_id": stream.pk, "decision": approval.decision,
                        "approver": str(approval.approver), "reason": approval.reason,
                        "decided_at": approval.decided_at, "covers": approval.covers})
