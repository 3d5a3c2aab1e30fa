"""Approvals of public servants' streams by the county's discipline-inspection office (纪检监察).

A stream whose host is a public servant goes live only with a current approval: a discipline inspector
of the stream's county signs off on the host, the shelf and the prices ("严格审核把关每个环节") and gives a
reason; the decision, approver and time are kept (`StreamApproval`). Scheduling needs no approval: the
office approves a scheduled stream, whose shelf is then known.

What an approval covers is a snapshot (`covers`): the host's kind, title and public-servant flag, and each
product on the shelf with its price and cost floor. We chose "any change voids it" over re-checking only
the changed items: the office signed off on a whole, and a new decision is cheap. A shelf change voids the
approval at once (`void_for_shelf_change`, called by `streams.set_stream_products`); a price change,
made in catalog (which cannot see live), is found by comparing the snapshot when the stream goes live,
and the refusal names what differs. During a live stream the shelf of a public servant's stream is
locked: what is sold is what was approved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.audit import record_action
from zhunong.core.text import clean_text

from .errors import (
    ApprovalNotNeeded,
    ApprovalOutdated,
    ApprovalRequired,
    ApproverOutsideRegion,
    NotApprover,
    StreamNotScheduled,
)
from .models import Host, Stream, StreamApproval, StreamStatus

REASON_MAX = 500


def needs_approval(stream: Stream) -> bool:
    return bool(stream.host.is_public_servant)


def snapshot(stream: Stream) -> dict[str, Any]:
    """What an approval of `stream` signs off on, as it is now (JSON: prices as strings)."""
    host: Host = stream.host
    products = sorted(stream.products.all(), key=lambda p: p.pk)
    return {
        "host": {"id": host.pk, "user": str(host.user), "kind": host.kind, "title": host.title,
                 "is_public_servant": host.is_public_servant},
        "products": [{"id": p.pk, "name": p.name, "price": str(p.price), "cost_floor": str(p.cost_floor)}
                     for p in products],
    }


def differences(covered: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What changed between an approval's snapshot and the stream now, in words the page can show."""
    found: list[str] = []
    old_host, new_host = covered.get("host", {}), now.get("host", {})
    for key in ("id", "kind", "title", "is_public_servant"):
        if old_host.get(key) != new_host.get(key):
            found.append(f"host.{key}")
    old = {item["id"]: item for item in covered.get("products", [])}
    new = {item["id"]: item for item in now.get("products", [])}
    for pid in sorted(set(old) - set(new)):
        found.append(f"product {pid} removed")
    for pid in sorted(set(new) - set(old)):
        found.append(f"product {pid} added")
    for pid in sorted(set(old) & set(new)):
        for key in ("price", "cost_floor"):
            if Decimal(old[pid][key]) != Decimal(new[pid][key]):
                found.append(f"product {pid} {key} {old[pid][key]} -> {new[pid][key]}")
    return found


def latest_approval(stream: Stream) -> StreamApproval | None:
    """The latest decision on the stream that has not been voided (an approval or a refusal)."""
    return stream.approvals.filter(voided_at__isnull=True).select_related("approver").first()


def approval_state(stream: Stream) -> dict[str, Any]:
    """For pages and the API: whether the stream needs an approval, the latest decision, and whether it
    still covers the stream as it is now ("current")."""
    if not needs_approval(stream):
        return {"needed": False, "approval": None, "current": True, "differences": []}
    approval = latest_approval(stream)
    if approval is None or approval.decision != StreamApproval.Decision.APPROVED:
        return {"needed": True, "approval": approval, "current": False, "differences": []}
    diff = differences(approval.covers, snapshot(stream))
    return {"needed": True, "approval": approval, "current": not diff, "differences": diff}


def check_can_go_live(stream: Stream) -> None:
    """Raise unless the stream may go live as far as approvals go (called by `streams.start_stream`)."""
    state = approval_state(stream)
    if not state["needed"]:
        return
    if state["approval"] is None or state["approval"].decision != StreamApproval.Decision.APPROVED:
        raise ApprovalRequired(details={"stream_id": stream.pk})
    if not state["current"]:
        raise ApprovalOutdated(details={"stream_id": stream.pk, "differences": state["differences"]})


@transaction.atomic
def decide(*, actor: User, stream: Stream, approve: bool, reason: str) -> StreamApproval:
    """A discipline inspector of the stream's county approves (or refuses) a public servant's scheduled
    stream as it is now. A new decision replaces the previous one (which stays in the record, voided)."""
    stream = Stream.objects.select_for_update().select_related("host__user", "channel__county").get(pk=stream.pk)
    policy.require(actor, "stream.approve", stream, error=NotApprover, outside=ApproverOutsideRegion)
    if not needs_approval(stream):
        raise ApprovalNotNeeded(details={"stream_id": stream.pk})
    if stream.status != StreamStatus.SCHEDULED:
        raise StreamNotScheduled(details={"stream_id": stream.pk, "status": stream.status})
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, multiline=True)
    now = timezone.now()
    stream.approvals.filter(voided_at__isnull=True).update(voided_at=now, void_reason="superseded")
    approval = StreamApproval.objects.create(
        stream=stream, approver=actor, reason=reason, covers=snapshot(stream),
        decision=StreamApproval.Decision.APPROVED if approve else StreamApproval.Decision.REFUSED,
    )
    record_action(actor=actor, action="live.stream_approved", subject=stream,
                  after={"decision": approval.decision, "reason": reason, "covers": approval.covers})
    return approval


def void_for_shelf_change(stream: Stream) -> int:
    """Inside `set_stream_products`' transaction: the shelf changed, so the approval no longer covers it."""
    current = snapshot(stream)
    voided = 0
    for approval in stream.approvals.filter(voided_at__isnull=True, decision=StreamApproval.Decision.APPROVED):
        diff = differences(approval.covers, current)
        if diff:
            approval.voided_at = timezone.now()
            approval.void_reason = ("shelf changed: " + "; ".join(diff))[:300]
            approval.save(update_fields=["voided_at", "void_reason"])
            voided += 1
    return voided
