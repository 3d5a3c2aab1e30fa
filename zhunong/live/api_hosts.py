"""Live API about hosts: the real-name identity on file, a host's record, and the three thirds of a stream.

Training is run from the operator's pages and the admin; it has no API. The identity answers carry the masked
number only: the full number is shown on the verifying operator's page, never over the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Router, Schema
from pydantic import Field

from zhunong.accounts import policy
from zhunong.accounts.api import Id
from zhunong.accounts.auth import auth_required
from zhunong.accounts.errors import IdKeysMissing, IdNumberBirthDate, IdNumberChecksum, IdNumberRegion
from zhunong.accounts.policy import Scope
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.core.schemas import RequestSchema

from . import realname, records, selectors, thirds
from .errors import HostNotFound, HostUnderAge, IdNumberInUse, NotModerator, StreamNotFound, StreamNotLive
from .models import Host

router = Router(tags=["live"])

KindName = Literal["household_products", "coaching", "policy"]


class IdentityIn(RequestSchema):
    real_name: str = Field(min_length=2, max_length=50, pattern=realname.NAME_PATTERN,
                           description="the name on the ID card")
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$",
                           description="mainland resident ID number (GB 11643-1999); check character, birth date "
                                       "and province code are checked (422 id_number_*), the holder must be 16")


class IdentityOut(Schema):
    host_id: int
    real_name: str
    id_masked: str = Field(description="region code and last four characters, e.g. 110105********002X")
    region_agreement: Literal["same_county", "same_city", "same_province", "elsewhere", "unknown"]
    verified: bool


class ShareOut(Schema):
    kind: KindName
    seconds: int
    of_marked: float = Field(description="share of the marked time, 0..1 (the target is a third)")
    of_live: float = Field(description="share of the live time, 0..1")
    on_target: bool


class SplitOut(Schema):
    live_seconds: int
    marked_seconds: int
    unmarked_seconds: int
    balanced: bool = Field(description="every share within 5 percentage points of a third")
    shares: list[ShareOut]


class SegmentIn(RequestSchema):
    kind: KindName | None = Field(description="what the room does from now on; null ends the current mark")


class SegmentOut(Schema):
    kind: KindName
    started_at: dt.datetime


class ThirdsOut(Schema):
    stream_id: int
    current: SegmentOut | None
    split: SplitOut


class CertificateOut(Schema):
    course: str
    number: str
    hours: float
    issued_at: dt.datetime


class StreamLineOut(Schema):
    id: int
    title: str
    status: Literal["scheduled", "live", "ended", "cancelled"]
    live_seconds: int
    split: SplitOut


class FiguresOut(Schema):
    orders: int
    sales: str = Field(description="yuan, paid orders of the host's streams")
    refunded: str
    complaints: int
    refund_rate: float | None


class HostRecordOut(Schema):
    host_id: int
    kind: str
    verified: bool
    streams: dict[str, int] = Field(description="count by status")
    live_seconds: int
    figures: FiguresOut | None
    training_hours: float
    certificates: list[CertificateOut]
    thirds: SplitOut
    stream_lines: list[StreamLineOut]


def _split_out(split: thirds.Split) -> dict:
    return {"live_seconds": split.live_seconds, "marked_seconds": split.marked_seconds,
            "unmarked_seconds": split.unmarked_seconds, "balanced": split.balanced,
            "shares": [{"kind": s.kind, "seconds": s.seconds, "of_marked": round(s.of_marked, 4),
                        "of_live": round(s.of_live, 4), "on_target": s.on_target} for s in split.shares]}


def _host(host_id: int) -> Host:
    host = records.host_by_id(host_id)
    if host is None:
        raise HostNotFound()
    return host


@router.put("/live/hosts/{host_id}/identity",
            response=responses({200: IdentityOut}, HostNotFound, PermissionDenied, IdNumberChecksum,
                               IdNumberBirthDate, IdNumberRegion, HostUnderAge, IdNumberInUse, IdKeysMissing),
            auth=auth_required, summary="Record or change a host's real name and ID number (county operators)")
def put_identity(request, host_id: Id, payload: IdentityIn):  # noqa: ANN001, ANN201
    """A changed number takes the host's verification away (verify again: `POST /live/hosts/{id}/verify`).
    The same number for a second person: 409 `id_number_in_use`. Every attempt is in the audit log."""
    host = _host(host_id)
    identity = realname.record_identity(actor=request.auth, host=host, real_name=payload.real_name,
                                        id_number=payload.id_number)
    host.refresh_from_db()
    return {"host_id": host.pk, "real_name": identity.real_name, "id_masked": identity.id_masked,
            "region_agreement": identity.region_agreement, "verified": host.is_verified}


@router.get("/live/hosts/{host_id}/record", response=responses({200: HostRecordOut}, HostNotFound, PermissionDenied),
            auth=auth_required, summary="A host's record: streams, hours live, sales, complaints, training, thirds")
def host_record(request, host_id: Id):  # noqa: ANN001, ANN201
    """For the host, their county's operators, regulators and platform admins (as a stream's record)."""
    host = _host(host_id)
    policy.require(request.auth, "stream.audit",
                   Scope(regions=lambda: (host.channel.county,), host_user_ids=(host.user_id,)),
                   error=PermissionDenied("Only the host, their county's staff and regulators see the record."))
    record = records.host_record(host)
    figures = None
    if record.figures is not None:
        figures = {"orders": record.figures["orders"], "sales": str(record.figures["sales"]),
                   "refunded": str(record.figures["refunded"]), "complaints": record.figures["complaints"],
                   "refund_rate": None if record.refund_rate is None else round(record.refund_rate, 4)}
    return {
        "host_id": host.pk, "kind": host.kind, "verified": host.is_verified, "streams": record.counts,
        "live_seconds": record.live_seconds, "figures": figures, "training_hours": float(record.training_hours),
        "certificates": [{"course": c.course.title, "number": c.number, "hours": float(c.hours),
                          "issued_at": c.issued_at} for c in record.certificates],
        "thirds": _split_out(record.overall),
        "stream_lines": [{"id": line.stream.pk, "title": line.stream.title, "status": line.stream.status,
                          "live_seconds": line.live_seconds, "split": _split_out(line.split)}
                         for line in record.streams],
    }


def _thirds_out(stream) -> dict:  # noqa: ANN001
    current = thirds.current_segment(stream)
    return {"stream_id": stream.pk,
            "current": {"kind": current.kind, "started_at": current.started_at} if current else None,
            "split": _split_out(thirds.stream_split(stream))}


@router.post("/live/streams/{stream_id}/segments",
             response=responses({200: ThirdsOut}, StreamNotFound, NotModerator, StreamNotLive),
             auth=auth_required, summary="Mark what a live stream does now (the three thirds)")
def mark_segment(request, stream_id: Id, payload: SegmentIn):  # noqa: ANN001, ANN201
    """The stream's host or its county's operators, while it is live; the previous mark ends now."""
    stream = selectors.get_stream(stream_id)
    thirds.mark_segment(actor=request.auth, stream=stream, kind=payload.kind)
    return _thirds_out(stream)


@router.get("/live/streams/{stream_id}/thirds",
            response=responses({200: ThirdsOut}, StreamNotFound, PermissionDenied), auth=auth_required,
            summary="A stream's split against the three thirds")
def stream_thirds(request, stream_id: Id):  # noqa: ANN001, ANN201
    stream = selectors.get_stream(stream_id)
    policy.require(request.auth, "stream.audit", stream, error=PermissionDenied(
        "Only the stream's host, its county's staff and regulators see its split."))
    return _thirds_out(stream)


