"""Pages about hosts: the identity on file and the full number for the verifying operator, a host's record,
the county's training (courses, sessions, attendance, certificates), and the console's three-thirds control.
Views parse, authorise, call a service (realname, training, thirds), render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from zhunong.accounts import policy
from zhunong.accounts.idnumber import RegionAgreement
from zhunong.accounts.policy import Scope
from zhunong.core.errors import DomainError

from . import realname, records, selectors, thirds, training
from .errors import StreamNotFound
from .forms import CourseForm, IdentityForm, SessionForm, show_service_error
from .models import Course, Host, SegmentKind, TrainingSession

# The refusals an operator meets on these pages, in the pages' language (the services' messages are English).
ERROR_TEXT = {
    "id_number_malformed": gettext_lazy("身份证号码应为18位：17位数字加1位数字或X。"),
    "id_number_checksum": gettext_lazy("身份证号码校验位不对（GB 11643-1999），请核对是否输错。"),
    "id_number_birth_date": gettext_lazy("身份证号码中的出生日期不存在或晚于今天。"),
    "id_number_region": gettext_lazy("身份证号码前6位不是大陆省份的行政区划代码。"),
    "host_under_age": gettext_lazy("主播须年满16周岁。"),
    "id_number_in_use": gettext_lazy("该身份证号码已登记在另一位主播名下：一个号码只属于一个人。"),
    "host_identity_missing": gettext_lazy("请先登记主播的真实姓名和身份证号码，再认证。"),
    "not_verifying_operator": gettext_lazy("只有认证该主播的运营人员可以查看完整号码。"),
    "id_keys_missing": gettext_lazy("服务器未配置身份证加密密钥，暂不能登记。"),
    "training_incomplete": gettext_lazy("该主播尚未参加全部课次（或课程还没有结束），不能发证。"),
    "certificate_exists": gettext_lazy("已发过结业证书。"),
    "session_not_over": gettext_lazy("课次开始后才能记录出勤。"),
    "host_not_in_county": gettext_lazy("该主播不属于本县频道。"),
    "stream_not_live": gettext_lazy("直播未在进行中。"),
}

AGREEMENT_TEXT = {
    RegionAgreement.SAME_COUNTY: gettext_lazy("户籍地为本县"),
    RegionAgreement.SAME_CITY: gettext_lazy("户籍地为本市其他县区"),
    RegionAgreement.SAME_PROVINCE: gettext_lazy("户籍地为本省其他市"),
    RegionAgreement.ELSEWHERE: gettext_lazy("户籍地在外省（号码终身不变，请现场核实）"),
    RegionAgreement.UNKNOWN: gettext_lazy("无法比对户籍地"),
}


def error_text(exc: DomainError) -> str:
    return str(ERROR_TEXT.get(exc.code, exc.message))


def _manageable_host(request: HttpRequest, host_id: int) -> Host:
    host = records.host_by_id(host_id)
    if host is None:
        raise Http404(_("没有这位主播。"))
    return host


# --- identity ---------------------------------------------------------------------------------------


@login_required
@require_POST
def host_identity(request: HttpRequest, host_id: int) -> HttpResponse:
    """Record or change a host's real name and ID number (a changed number takes the verification away)."""
    host = _manageable_host(request, host_id)
    form = IdentityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写真实姓名和身份证号码。"))
        return redirect("live:hosts")
    try:
        was_verified = host.is_verified
        realname.record_identity(actor=request.user, host=host, real_name=form.cleaned_data["real_name"],
                                 id_number=form.cleaned_data["id_number"])
        host.refresh_from_db()
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("实名信息已登记。") if host.is_verified or not was_verified
                         else _("身份证号码已变更，认证已撤销，请重新核验。"))
    return redirect("live:hosts")


@login_required
@require_POST
def reveal_id_number(request: HttpRequest, host_id: int) -> HttpResponse:
    """The full number, for the verifying operator only (POST: every look is written to the audit log)."""
    host = _manageable_host(request, host_id)
    try:
        number = realname.reveal_id_number(actor=request.user, host=host)
    except DomainError as exc:
        return HttpResponse(error_text(exc), status=exc.status)
    return render(request, "live/_id_number.html", {"number": number})


# --- a host's record -----------------------------------------------------------------------------------


def _record_scope(host: Host) -> Scope:
    # The record aggregates the host's streams, so it is read like one: `stream.audit` (the county office,
    # regulators, platform admins and the host themself).
    return Scope(regions=lambda: (host.channel.county,), host_user_ids=(host.user_id,))


@login_required
@require_GET
def host_record(request: HttpRequest, host_id: int) -> HttpResponse:
    host = _manageable_host(request, host_id)
    if not policy.can(request.user, "stream.audit", _record_scope(host)):
        return HttpResponseForbidden(_("无权查看这位主播的履历。"))
    record = records.host_record(host)
    return render(request, "live/host_record.html", {
        "record": record, "host": host,
        "agreement": AGREEMENT_TEXT.get(record.identity.region_agreement) if record.identity else None,
        "may_reveal": realname.may_see_full_number(request.user, host),
        "kinds": SegmentKind.choices,
    })


# --- training --------------------------------------------------------------------------------------------


def _county_of(user) -> object | None:  # noqa: ANN001
    region = getattr(user, "region", None)
    if region is None:
        return None
    return region if region.level == "county" else region.ancestor_at("county")


@login_required
def training_list(request: HttpRequest) -> HttpResponse:
    if not policy.may_hold(request.user, "channel.manage"):
        return HttpResponseForbidden(_("只有县级运营人员可以管理主播培训。"))
    form = CourseForm(request.POST or None)
    county = _county_of(request.user)
    if request.method == "POST" and form.is_valid():
        if county is None:
            form.add_error(None, _("您的账号没有所属县，不能开课。"))
        else:
            try:
                course = training.create_course(actor=request.user, county=county, title=form.cleaned_data["title"],
                                                description=form.cleaned_data["description"])
            except DomainError as exc:
                show_service_error(form, exc, error_text(exc))
            else:
                messages.success(request, _("课程已创建，请添加课次。"))
                return redirect("live:course", course_id=course.pk)
    return render(request, "live/training.html", {"courses": list(records.courses_for_staff(request.user)[:200]),
                                                  "form": form, "county": county})


def _course_or_404(request: HttpRequest, course_id: int) -> Course:
    course = records.courses_for_staff(request.user).filter(pk=course_id).first()
    if course is None:
        raise Http404(_("没有这门课程。"))
    return course


@login_required
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course_or_404(request, course_id)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            training.add_session(actor=request.user, course=course, topic=data["topic"], starts_at=data["starts_at"],
                                 ends_at=data["ends_at"], place=data["place"], trainer=data["trainer"])
        except DomainError as exc:
            show_service_error(form, exc, error_text(exc))
        else:
            messages.success(request, _("课次已添加。"))
            return redirect("live:course", course_id=course.pk)
    sessions = list(course.sessions.all())
    grid = records.attendance_grid(course)
    certificates = records.certificates_of(course)
    now = timezone.now()
    rows = [{"host": host,
             "cells": [{"session": s, "present": grid.get((s.pk, host.pk)), "open": s.starts_at <= now}
                       for s in sessions],
             "certificate": certificates.get(host.pk),
             "complete": bool(sessions) and all(grid.get((s.pk, host.pk)) for s in sessions)
             and max(s.ends_at for s in sessions) <= now}
            for host in records.course_hosts(course)]
    return render(request, "live/course.html", {"course": course, "sessions": sessions, "rows": rows, "form": form})


@login_required
@require_POST
def record_attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TrainingSession.objects.select_related("course__county"), pk=session_id)
    course = _course_or_404(request, session.course_id)
    raw = str(request.POST.get("host", ""))
    host = records.course_hosts(course).filter(pk=raw).first() if raw.isdigit() else None
    if host is None:
        messages.error(request, _("请选择主播。"))
        return redirect("live:course", course_id=course.pk)
    try:
        training.record_attendance(actor=request.user, session=session, host=host,
                                   present=request.POST.get("present") == "1")
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect("live:course", course_id=course.pk)


@login_required
@require_POST
def issue_certificate(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course_or_404(request, course_id)
    raw = str(request.POST.get("host", ""))
    host = records.course_hosts(course).filter(pk=raw).first() if raw.isdigit() else None
    if host is None:
        messages.error(request, _("请选择主播。"))
        return redirect("live:course", course_id=course.pk)
    try:
        certificate = training.issue_certificate(actor=request.user, course=course, host=host)
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已发结业证书 %(number)s。") % {"number": certificate.number})
    return redirect("live:course", course_id=course.pk)


# --- the console's three-thirds control ----------------------------------------------------------------


def thirds_context(stream) -> dict:  # noqa: ANN001
    return {"segment": thirds.current_segment(stream), "split": thirds.stream_split(stream),
            "segment_kinds": SegmentKind.choices}


@login_required
@require_POST
def mark_thirds(request: HttpRequest, stream_id: int) -> HttpResponse:
    try:
        stream = selectors.get_stream(stream_id)
    except StreamNotFound:
        raise Http404(_("没有这场直播。"))
    kind = request.POST.get("kind") or None
    error = None
    try:
        thirds.mark_segment(actor=request.user, stream=stream, kind=kind)
    except DomainError as exc:
        error = error_text(exc)
        if not request.headers.get("HX-Request"):
            messages.error(request, error)
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: a refusal comes back as the panel with its message in it.
        return render(request, "live/_console_thirds.html", {"stream": stream, "thirds_error": error,
                                                              **thirds_context(stream)})
    return redirect("live:console", stream_id=stream.pk)
