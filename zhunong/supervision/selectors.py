"""Reads for the integrity office."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q
from zhunong.live.models import Host, Stream, StreamMinute, ViewerSession
from zhunong.orders.models import Order
from zhunong.producers.models import Region

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


# --- the office's pages (views.py, api.py, reports.py) ----------------------------------------------------

AGE_BUCKETS = [(1, "<1天"), (7, "1–7天"), (30, "7–30天"), (180, "30–180天"), (None, "≥180天")]


def office_flags(user: User, *, kind: str = "", status: str = "", stream_id: int | None = None,
                 host_id: int | None = None, county: str = "") -> QuerySet[IntegrityFlag]:
    """The flags of the user's region (see `flags_visible_to`), filtered, with what the lists show."""
    qs = flags_visible_to(user).select_related("stream__host__user", "stream__channel__county", "review",
                                               "review__reviewer", "subject_type")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if stream_id:
        qs = qs.filter(Q(stream_id=stream_id) | Q(details__stream_id=stream_id))
    if host_id:
        qs = qs.filter(Q(stream__host_id=host_id) | Q(details__host_id=host_id))
    if county:
        qs = qs.filter(region__path__startswith=county)
    return qs


def county_of(region: Region | None) -> Region | None:
    """The county a region lies in (itself if it is one); None above county level."""
    while region is not None and region.level != Region.Level.COUNTY:
        region = region.parent
    return region


def stream_of(flag: IntegrityFlag) -> Stream | None:
    """The stream a flag is about: its own field, the stream named in its details, or its subject's stream."""
    if flag.stream_id:
        return flag.stream
    stream_id = (flag.details or {}).get("stream_id") or (flag.evidence or {}).get("stream_id")
    if isinstance(stream_id, int) or (isinstance(stream_id, str) and stream_id.isdigit()):
        found = Stream.objects.select_related("host__user", "channel__county").filter(pk=int(stream_id)).first()
        if found is not None:
            return found
    subject = flag.subject if flag.subject_type_id else None
    if isinstance(subject, Stream):
        return subject
    return getattr(subject, "stream", None) if subject is not None else None


def group_flags(flags: list[IntegrityFlag]) -> dict[str, list[dict[str, Any]]]:
    """Counts of flags by stream, host and county (open / confirmed / dismissed), most open first."""
    groups: dict[str, dict[Any, dict[str, Any]]] = {"stream": {}, "host": {}, "county": {}}
    for flag in flags:
        stream = stream_of(flag)
        county = county_of(flag.region) or (stream.channel.county if stream else None)
        keys = {"stream": (stream.pk, stream.title) if stream else None,
                "host": (stream.host_id, str(stream.host.user)) if stream else None,
                "county": (county.code, county.name) if county else None}
        for group, key in keys.items():
            if key is None:
                continue
            row = groups[group].setdefault(key[0], {"id": key[0], "name": key[1], "open": 0, "confirmed": 0,
                                                    "dismissed": 0, "total": 0})
            row[flag.status] += 1
            row["total"] += 1
    return {name: sorted(rows.values(), key=lambda r: (-r["open"], -r["total"], str(r["id"])))
            for name, rows in groups.items()}


def open_flag_counts(user: User, stream_ids: list[int]) -> dict[int, int]:
    """Open flags per stream (by the flag's stream field) among the user's flags."""
    rows = (flags_visible_to(user).filter(stream_id__in=stream_ids, status=IntegrityFlag.Status.OPEN)
            .values("stream_id").annotate(n=models.Count("pk")))
    return {row["stream_id"]: row["n"] for row in rows}


def streams_for_office(user: User) -> QuerySet[Stream]:
    qs = Stream.objects.select_related("host__user", "channel__county")
    if not user.is_authenticated:
        return qs.none()
    q = region_q(user, "channel__county")
    return qs if q is None else qs.filter(q)


def hosts_for_office(user: User) -> QuerySet[Host]:
    qs = Host.objects.select_related("user", "channel__county")
    if not user.is_authenticated:
        return qs.none()
    q = region_q(user, "channel__county")
    return qs if q is None else qs.filter(q)


# How the platform's own event log (detection/export.py) names things, and so how detector flags do:
# orders by number, sessions "vs<id>", accounts "u<id>". Plain integers are ids too.
_ID_PREFIX = {"order_ids": "", "session_ids": "vs", "account_ids": "u"}


def evidence_ids(flag: IntegrityFlag, key: str) -> list[int]:
    """The platform ids a flag's evidence names under `key` (order_ids, session_ids, account_ids)."""
    prefix = _ID_PREFIX.get(key, "")
    out: list[int] = []
    for value in (flag.evidence or {}).get(key, []) or []:
        if isinstance(value, bool):
            continue
        text = str(value)
        if prefix and text.startswith(prefix):
            text = text[len(prefix):]
        if text.isdigit() and len(text) < 16:
            out.append(int(text))
    return out


def evidence_order_numbers(flag: IntegrityFlag) -> list[str]:
    """The order numbers a flag's evidence names (what is not a plain id)."""
    return [str(v) for v in (flag.evidence or {}).get("order_ids", []) or []
            if isinstance(v, str) and not v.isdigit()]


def evidence_order_pks(flag: IntegrityFlag) -> tuple[set[int], list[str]]:
    """(pks of the orders the evidence names that exist, what it names that does not exist)."""
    ids, numbers = evidence_ids(flag, "order_ids"), evidence_order_numbers(flag)
    found = dict(Order.objects.filter(Q(pk__in=ids) | Q(number__in=numbers)).values_list("pk", "number"))
    missing = [f"order #{pk}" for pk in ids if pk not in found] + [
        f"order {n}" for n in numbers if n not in set(found.values())]
    return set(found), missing


def evidence_of(flag: IntegrityFlag) -> dict[str, Any]:
    """The orders, sessions and accounts a flag names, as rows for the page (platform ids only; what an
    imported log names is shown as given), and the ids it names that are gone."""
    order_pks, missing = evidence_order_pks(flag)
    subject = flag.subject if flag.subject_type_id else None
    if isinstance(subject, Order):
        order_pks.add(subject.pk)
    number = (flag.details or {}).get("order")
    orders = list(Order.objects.select_related("buyer").filter(Q(pk__in=order_pks) | Q(number=number or "-"))
                  .order_by("created_at"))
    sessions = list(ViewerSession.objects.select_related("user").filter(pk__in=evidence_ids(flag, "session_ids"))
                    .order_by("first_seen")[:500])
    account_ids = set(evidence_ids(flag, "account_ids")) | {o.buyer_id for o in orders}
    accounts = list(User.objects.filter(pk__in=account_ids).order_by("date_joined")[:500])
    return {"orders": orders, "sessions": sessions, "accounts": accounts, "missing_orders": missing,
            "why": (flag.evidence or {}).get("why", "")}


def _minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def alive_per_minute(sessions: list[tuple[dt.datetime, dt.datetime]], minutes: list[dt.datetime]) -> list[int]:
    """How many sessions were alive (first seen ≤ minute ≤ last seen) in each minute: a difference array."""
    if not minutes:
        return []
    index = {m: i for i, m in enumerate(minutes)}
    first, last = minutes[0], minutes[-1]
    diff = [0] * (len(minutes) + 1)
    for start, end in sessions:
        start, end = max(_minute(start), first), min(_minute(end), last)
        if start > end:
            continue
        diff[index.get(start, 0)] += 1
        diff[index.get(end, len(minutes) - 1) + 1] -= 1
    out, running = [], 0
    for value in diff[:-1]:
        running += value
        out.append(running)
    return out


def stream_minutes(stream: Stream) -> list[dt.datetime]:
    """Every minute of the stream, from its start (or first record) to its end (or last record)."""
    recorded = list(StreamMinute.objects.filter(stream=stream).values_list("minute", flat=True))
    start = stream.started_at or (min(recorded) if recorded else None)
    end = stream.ended_at or (max(recorded) if recorded else None) or timezone.now()
    if start is None:
        return []
    start, end = _minute(start), _minute(end)
    count = min(int((end - start).total_seconds() // 60) + 1, 24 * 60)
    return [start + dt.timedelta(minutes=i) for i in range(max(count, 0))]


def chart_data(stream: Stream | None, flag_orders: list[Order] | None = None,
               flag_sessions: list[ViewerSession] | None = None,
               flag_accounts: list[User] | None = None) -> dict[str, Any]:
    """The three charts' series (ECharts, drawn by supervision/office.js from json_script):
    reported viewers (StreamMinute) against sessions alive by their heartbeats (ViewerSession first/last
    seen), orders per minute, and buyers' account ages at order time; flagged ones apart."""
    if stream is None:
        return {}
    minutes = stream_minutes(stream)
    reported = dict(StreamMinute.objects.filter(stream=stream).values_list("minute", "concurrent_viewers"))
    spans = list(ViewerSession.objects.filter(stream=stream).values_list("first_seen", "last_seen"))
    flagged_spans = [(s.first_seen, s.last_seen) for s in flag_sessions or []]
    orders = list(Order.objects.filter(stream=stream).select_related("buyer").only(
        "pk", "created_at", "buyer__date_joined"))
    flagged_ids = {o.pk for o in flag_orders or []}
    per_minute: dict[dt.datetime, list[int]] = {m: [0, 0] for m in minutes}
    for order in orders:
        slot = per_minute.get(_minute(order.created_at))
        if slot is not None:
            slot[0] += 1
            slot[1] += order.pk in flagged_ids
    flagged_accounts = {u.pk for u in flag_accounts or []}
    ages = {label: [0, 0] for _, label in AGE_BUCKETS}
    for order in orders:
        days = (order.created_at - order.buyer.date_joined).total_seconds() / 86400
        label = next(label for limit, label in AGE_BUCKETS if limit is None or days < limit)
        ages[label][0] += 1
        ages[label][1] += order.buyer_id in flagged_accounts or order.pk in flagged_ids
    labels = [timezone.localtime(m).strftime("%H:%M") for m in minutes]
    return {
        "minutes": labels,
        "reported": [reported.get(m, 0) for m in minutes],
        "alive": alive_per_minute(spans, minutes),
        "alive_flagged": alive_per_minute(flagged_spans, minutes),
        "orders": [per_minute[m][0] for m in minutes],
        "orders_flagged": [per_minute[m][1] for m in minutes],
        "age_labels": [label for _, label in AGE_BUCKETS],
        "ages": [ages[label][0] for _, label in AGE_BUCKETS],
        "ages_flagged": [ages[label][1] for _, label in AGE_BUCKETS],
    }


SCAN_STAGES = {"queued": "排队中", "exporting": "导出直播数据", "scanning": "检测中", "recording": "记录线索", "done": "已完成"}


def scan_state(stream_id: int) -> dict | None:
    """Where the post-stream scan of a stream is (tasks.scan_stream_task writes it): stage, its Chinese
    label, counts and when; None when no scan was queued (a stream that has not ended, or before this feature)."""
    from .detection.record import scan_progress

    state = scan_progress(stream_id)
    if not state:
        return None
    return {**state, "label": SCAN_STAGES.get(state.get("stage", ""), state.get("stage", "")),
            "running": state.get("stage") != "done"}
