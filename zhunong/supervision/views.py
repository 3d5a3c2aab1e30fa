"""The discipline-inspection office's pages (纪检监察): flags by stream, host and county with their evidence,
confirm / dismiss with a reason, approvals of officials' streams, and per-stream and per-host reports with
raw and clean figures, exported as CSV, XLSX and PDF. Regulators read them for their region."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhunong.accounts import policy
from zhunong.core.errors import DomainError
from zhunong.live import approvals
from zhunong.live.models import StreamStatus
from zhunong.producers.models import Region

from . import reports, selectors, services
from .models import FlagReview, IntegrityFlag

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}


def _require_office(request: HttpRequest) -> None:
    if not policy.may_hold(request.user, "integrity.view"):
        raise DjangoPermissionDenied("只有纪检监察和市场监管人员可以查看。")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 16 else None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Flags of the user's region, filtered by kind, status, stream, host and county, and grouped."""
    _require_office(request)
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in IntegrityFlag.Kind.values else ""
    status = request.GET.get("status", "") if request.GET.get("status", "") in IntegrityFlag.Status.values else ""
    county = request.GET.get("county", "")
    region = Region.objects.filter(code=county).first() if county else None
    flags = selectors.office_flags(request.user, kind=kind, status=status,
                                   stream_id=_int(request.GET.get("stream")), host_id=_int(request.GET.get("host")),
                                   county=region.path if region else "")
    page = Paginator(flags, 30).get_page(request.GET.get("page"))
    recent = list(flags[:500])  # the groups summarise the latest 500 matching flags
    return render(request, "supervision/home.html", {
        "page": page, "rows": [(f, selectors.stream_of(f)) for f in page], "groups": selectors.group_flags(recent),
        "kinds": IntegrityFlag.Kind.choices, "statuses": IntegrityFlag.Status.choices, "kind": kind,
        "status": status, "county": county, "query": request.GET.urlencode(),
        "can_approve": policy.may_hold(request.user, "stream.approve"),
    })


@login_required
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    _require_office(request)
    flag = selectors.office_flags(request.user).filter(pk=flag_id).first()
    if flag is None:
        raise Http404()
    stream = selectors.stream_of(flag)
    evidence = selectors.evidence_of(flag)
    review = FlagReview.objects.filter(flag=flag).select_related("reviewer").first()
    return render(request, "supervision/flag.html", {
        "flag": flag, "stream": stream, "evidence": evidence, "review": review,
        "chart": selectors.chart_data(stream, evidence["orders"], evidence["sessions"], evidence["accounts"]),
        "can_review": review is None and flag.status == IntegrityFlag.Status.OPEN and policy.can(
            request.user, "integrity.review", policy.Scope(regions=(flag.region,) if flag.region_id else ())),
        "decisions": FlagReview.Decision.choices, "now": timezone.now(),
    })


@login_required
@require_POST
def review(request: HttpRequest, flag_id: int) -> HttpResponse:
    try:
        services.review_flag(actor=request.user, flag=flag_id, decision=request.POST.get("decision", ""),
                             reason=request.POST.get("reason", ""), request=request)
    except DomainError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "复核结论已记录，不可再修改。")
    if not selectors.office_flags(request.user).filter(pk=flag_id).exists():
        return redirect("supervision:home")
    return redirect("supervision:flag", flag_id=flag_id)


_MESSAGES = {
    "not_flag_reviewer": "只有纪检监察人员可以复核线索。",
    "reviewer_outside_region": "该线索不在您的辖区。",
    "flag_already_reviewed": "该线索已复核，复核结论不可修改。",
    "flag_evidence_missing": "线索涉及的订单或对象已不存在，无法据此复核。",
    "flag_not_found": "没有这条线索。",
    "not_discipline_inspector": "只有本县纪检监察人员可以审批公职人员直播。",
    "approver_outside_region": "该直播不在您的辖区。",
    "stream_approval_not_needed": "主播不是公职人员，无需审批。",
    "stream_not_scheduled": "只能审批尚未开播的直播。",
}


def _message(exc: DomainError) -> str:
    if exc.code == "invalid":
        field = (exc.details or {}).get("field")
        return "请填写理由（不超过 2000 字）。" if field == "reason" else "请选择结论。"
    return _MESSAGES.get(exc.code, str(exc.message))


@login_required
def approvals_page(request: HttpRequest) -> HttpResponse:
    """Public servants' scheduled streams of the region, with their approval state and the approve form."""
    _require_office(request)
    streams = (selectors.streams_for_office(request.user)
               .filter(host__is_public_servant=True, status=StreamStatus.SCHEDULED).order_by("planned_start"))
    items = [(s, approvals.approval_state(s), approvals.snapshot(s)) for s in streams[:100]]
    return render(request, "supervision/approvals.html", {
        "items": items, "can_approve": policy.may_hold(request.user, "stream.approve")})


@login_required
@require_POST
def approve(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = selectors.streams_for_office(request.user).filter(pk=stream_id).first()
    if stream is None:
        raise Http404()
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse"):
        messages.error(request, "请选择批准或不予批准。")
        return redirect("supervision:approvals")
    try:
        approvals.decide(actor=request.user, stream=stream, approve=decision == "approve",
                         reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"《{stream.title}》审批结论已记录。")
    return redirect("supervision:approvals")


@login_required
def streams_page(request: HttpRequest) -> HttpResponse:
    """The region's streams, newest first, each with its host and the number of open flags: the way to a
    stream's or a host's report when no flag leads there."""
    _require_office(request)
    streams = selectors.streams_for_office(request.user).order_by("-planned_start", "-pk")
    page = Paginator(streams, 30).get_page(request.GET.get("page"))
    open_flags = selectors.open_flag_counts(request.user, [s.pk for s in page])
    return render(request, "supervision/streams.html", {
        "page": page, "rows": [(s, open_flags.get(s.pk, 0)) for s in page]})


@login_required
def stream_page(request: HttpRequest, stream_id: int) -> HttpResponse:
    _require_office(request)
    stream = selectors.streams_for_office(request.user).filter(pk=stream_id).first()
    if stream is None:
        raise Http404()
    report = reports.stream_report(stream)
    fmt = request.GET.get("format")
    if fmt:
        return _export([report], fmt, name=f"stream-{stream.pk}", title=f"直播《{stream.title}》廉洁监督报告")
    return render(request, "supervision/stream.html", {
        "stream": stream, "report": report, "flags": reports.stream_flags(stream),
        "approval": approvals.approval_state(stream), "chart": selectors.chart_data(stream),
        "scan": selectors.scan_state(stream.pk),
    })


@login_required
def stream_scan(request: HttpRequest, stream_id: int) -> HttpResponse:
    """The post-stream scan's progress on the stream page (polled by htmx while it runs)."""
    _require_office(request)
    stream = selectors.streams_for_office(request.user).filter(pk=stream_id).first()
    if stream is None:
        raise Http404()
    return render(request, "supervision/_scan.html", {"stream": stream, "scan": selectors.scan_state(stream.pk)})


@login_required
def host_page(request: HttpRequest, host_id: int) -> HttpResponse:
    _require_office(request)
    host = selectors.hosts_for_office(request.user).filter(pk=host_id).first()
    if host is None:
        raise Http404()
    report = reports.host_report(host)
    fmt = request.GET.get("format")
    if fmt:
        return _export(report.streams, fmt, name=f"host-{host.pk}", title=f"主播 {host.user} 廉洁监督报告",
                       summary={"verdict": report.verdict, "raw": reports.figures_dict(report.raw),
                                "clean": reports.figures_dict(report.clean)})
    return render(request, "supervision/host.html", {"host": host, "report": report})


def _export(items: list[reports.StreamReport], fmt: str, *, name: str, title: str,
            summary: dict | None = None) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404()
    content_type, ext = EXPORTS[fmt]
    if fmt == "csv":
        body = reports.as_csv(items)
    elif fmt == "xlsx":
        body = reports.as_xlsx(items, title=title)
    else:
        body = reports.as_pdf(items, title=title, summary=summary)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="zhunong-{name}.{ext}"'
    return response
