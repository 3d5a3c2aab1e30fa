"""Per stream and per host: raw and clean figures, flags and a verdict; exported as CSV, XLSX and PDF.

Clean figures leave out what the office should not count as sales or audience: orders named by a flag
that is open or confirmed (a dismissed flag clears them), orders refunded or cancelled, the refunded part
of the rest, and viewer sessions named by an open or confirmed flag. A flag's evidence names platform ids
(`order_ids`, `session_ids`, `account_ids`), and a concern about one order (its subject) names that order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone

from zhunong.core.exports import Column, Table, to_csv, to_xlsx
from zhunong.live.models import Host, Stream, StreamMinute, ViewerSession
from zhunong.orders.models import Order, OrderStatus

from .models import IntegrityFlag
from .selectors import alive_per_minute, evidence_ids, evidence_order_pks, stream_minutes

COUNTING = (IntegrityFlag.Status.OPEN, IntegrityFlag.Status.CONFIRMED)
NOT_SALES = (OrderStatus.RESERVED, OrderStatus.CANCELLED)
REFUNDED = (OrderStatus.REFUNDED, OrderStatus.REFUND_REQUESTED)


@dataclass
class Figures:
    orders: int = 0
    buyers: int = 0
    sales: Decimal = Decimal("0.00")
    viewers: int = 0
    peak_viewers: int = 0


@dataclass
class StreamReport:
    stream: Stream
    raw: Figures
    clean: Figures
    flags: dict[str, int] = field(default_factory=dict)  # by status
    kinds: dict[str, int] = field(default_factory=dict)  # open or confirmed, by kind
    verdict: str = ""
    excluded_orders: int = 0
    excluded_sessions: int = 0


def stream_flags(stream: Stream) -> list[IntegrityFlag]:
    """Every flag about the stream: by its field, its details, or its subject (the stream or its orders)."""
    order_type = ContentType.objects.get_for_model(Order)
    stream_type = ContentType.objects.get_for_model(Stream)
    order_ids = [str(pk) for pk in Order.objects.filter(stream=stream).values_list("pk", flat=True)]
    q = (Q(stream=stream) | Q(details__stream_id=stream.pk) | Q(subject_type=stream_type, subject_id=str(stream.pk))
         | Q(subject_type=order_type, subject_id__in=order_ids))
    return list(IntegrityFlag.objects.filter(q).select_related("review").order_by("created_at", "pk"))


def verdict(flags: dict[str, int]) -> str:
    if flags.get(IntegrityFlag.Status.CONFIRMED):
        return "经核实存在问题"
    if flags.get(IntegrityFlag.Status.OPEN):
        return "有待核查的线索"
    return "未发现问题" if not flags.get(IntegrityFlag.Status.DISMISSED) else "线索经核查不属实"


def stream_report(stream: Stream) -> StreamReport:
    flags = stream_flags(stream)
    counting = [f for f in flags if f.status in COUNTING]
    flagged_orders: set[int] = set()
    flagged_sessions: set[int] = set()
    order_type = ContentType.objects.get_for_model(Order)
    for flag in counting:
        flagged_orders.update(evidence_order_pks(flag)[0])
        flagged_sessions.update(evidence_ids(flag, "session_ids"))
        if flag.subject_type_id == order_type.pk and flag.subject_id.isdigit():
            flagged_orders.add(int(flag.subject_id))
    sold = list(Order.objects.filter(stream=stream).exclude(status__in=NOT_SALES)
                .values_list("pk", "buyer_id", "total", "refunded_total", "status"))
    raw = Figures(orders=len(sold), buyers=len({row[1] for row in sold}),
                  sales=sum((row[2] for row in sold), Decimal("0.00")))
    kept = [row for row in sold if row[0] not in flagged_orders and row[4] not in REFUNDED]
    clean = Figures(orders=len(kept), buyers=len({row[1] for row in kept}),
                    sales=sum((row[2] - row[3] for row in kept), Decimal("0.00")))
    spans = list(ViewerSession.objects.filter(stream=stream).values_list("pk", "first_seen", "last_seen"))
    raw.viewers = len(spans)
    raw.peak_viewers = StreamMinute.objects.filter(stream=stream).aggregate(m=Max("concurrent_viewers"))["m"] or 0
    clean_spans = [(a, b) for pk, a, b in spans if pk not in flagged_sessions]
    clean.viewers = len(clean_spans)
    # The clean peak is what the sessions' own heartbeats support, never more than what was reported.
    alive = alive_per_minute(clean_spans, stream_minutes(stream))
    clean.peak_viewers = min(max(alive, default=0), raw.peak_viewers) if raw.peak_viewers else max(alive, default=0)
    by_status: dict[str, int] = {}
    for flag in flags:
        by_status[flag.status] = by_status.get(flag.status, 0) + 1
    kinds: dict[str, int] = {}
    for flag in counting:
        kinds[flag.kind] = kinds.get(flag.kind, 0) + 1
    return StreamReport(stream=stream, raw=raw, clean=clean, flags=by_status, kinds=kinds,
                        verdict=verdict(by_status), excluded_orders=len(sold) - len(kept),
                        excluded_sessions=len(spans) - len(clean_spans))


@dataclass
class HostReport:
    host: Host
    streams: list[StreamReport]
    raw: Figures
    clean: Figures
    flags: dict[str, int]
    verdict: str


def host_report(host: Host) -> HostReport:
    reports = [stream_report(s) for s in host.streams.select_related("host__user", "channel__county")
               .order_by("planned_start", "pk")]
    raw, clean, flags = Figures(), Figures(), {}
    for report in reports:
        for total, part in ((raw, report.raw), (clean, report.clean)):
            total.orders += part.orders
            total.sales += part.sales
            total.viewers += part.viewers
            total.peak_viewers = max(total.peak_viewers, part.peak_viewers)
        for status, count in report.flags.items():
            flags[status] = flags.get(status, 0) + count
    raw.buyers = Order.objects.filter(stream__host=host).exclude(status__in=NOT_SALES).values("buyer").distinct().count()
    clean.buyers = sum(r.clean.buyers for r in reports)  # per stream: a buyer of two streams counts twice
    return HostReport(host=host, streams=reports, raw=raw, clean=clean, flags=flags, verdict=verdict(flags))


# --- exports ----------------------------------------------------------------------------------------------

HEADER = ["直播ID", "标题", "主播", "县", "开始", "订单(原始)", "订单(剔除后)", "买家(原始)", "买家(剔除后)",
          "成交额(原始)", "成交额(剔除后)", "观众(原始)", "观众(剔除后)", "峰值在线(上报)", "峰值在线(心跳)",
          "待核查", "属实", "不属实", "结论"]


def rows(reports: list[StreamReport]) -> list[list[Any]]:
    out = []
    for r in reports:
        s = r.stream
        started = timezone.localtime(s.started_at).strftime("%Y-%m-%d %H:%M") if s.started_at else ""
        out.append([s.pk, s.title, str(s.host.user), s.channel.county.name, started, r.raw.orders, r.clean.orders,
                    r.raw.buyers, r.clean.buyers, str(r.raw.sales), str(r.clean.sales), r.raw.viewers,
                    r.clean.viewers, r.raw.peak_viewers, r.clean.peak_viewers, r.flags.get("open", 0),
                    r.flags.get("confirmed", 0), r.flags.get("dismissed", 0), r.verdict])
    return out


def _table(reports: list[StreamReport]) -> Table:
    return Table("supervision", "廉洁监督", [Column(f"c{i}", label) for i, label in enumerate(HEADER)],
                 [{f"c{i}": v for i, v in enumerate(row)} for row in rows(reports)])


def as_csv(reports: list[StreamReport]) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8), text defused against formula injection (core.exports)."""
    return to_csv(_table(reports))


def as_xlsx(reports: list[StreamReport], *, title: str) -> bytes:
    """One sheet, 廉洁监督: the report's title, then the header and a row per stream (core.exports)."""
    return to_xlsx(_table(reports), heading=title)


def as_pdf(reports: list[StreamReport], *, title: str, summary: dict[str, Any] | None = None) -> bytes:
    from weasyprint import HTML  # imported here: it is slow to import and only exports need it

    html = render_to_string("supervision/report_pdf.html", {
        "title": title, "header": HEADER, "rows": rows(reports), "summary": summary or {},
        "generated": timezone.localtime(),
    })
    return HTML(string=html).write_pdf()


def figures_dict(figures: Figures) -> dict[str, Any]:
    data = asdict(figures)
    data["sales"] = str(figures.sales)
    return data
