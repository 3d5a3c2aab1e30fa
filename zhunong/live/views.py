"""Live pages: stream list, channel pages, the room, the host console, a stream's record, and the
operator's pages for channels, hosts and scheduling. Views parse, authorise, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from zhunong.accounts import policy
from zhunong.core.errors import DomainError

from . import moderation, realname, selectors, streams, views_hosts
from .errors import StreamNotFound
from .forms import ChannelForm, HostForm, ReasonForm, ReportForm, ScheduleForm, VerifyForm, show_service_error
from .models import Report

RECORD_PAGE = 100
# gettext_lazy by its own name: makemessages (xgettext) does not see strings wrapped in an alias like _lazy.
RECORD_TABS = {
    "chat": gettext_lazy("弹幕"), "pins": gettext_lazy("讲解商品"), "announcements": gettext_lazy("公告"),
    "moderation": gettext_lazy("管理记录"), "reports": gettext_lazy("举报"), "minutes": gettext_lazy("分钟统计"),
    "history": gettext_lazy("状态变更"),
}

# The video app may provide this template (an HLS player for the room); the room works without it.
PLAYER_TEMPLATE = "video/room_player.html"
# Other apps' panels for the host console, included when they exist (context: stream, is_host, user).
CONSOLE_PANELS = ["video/_ingest_panel.html", "orders/_console_sale.html", "orders/_console_coupon.html",
                  "live/_console_thirds.html"]


def _stream_or_404(stream_id: int):  # noqa: ANN202
    try:
        return selectors.get_stream(stream_id)
    except StreamNotFound:
        raise Http404(_("没有这场直播。"))


def _optional_template(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _player_template() -> str | None:
    return _optional_template(PLAYER_TEMPLATE)


@require_GET
def stream_list(request: HttpRequest) -> HttpResponse:
    return render(request, "live/list.html", {
        "live": list(selectors.live_streams()[:50]),
        "upcoming": list(selectors.upcoming_streams()[:50]),
        "ended": list(selectors.ended_streams()[:20]),
        "channels": list(selectors.channels()[:100]),
    })


@require_GET
def channel_detail(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(selectors.channels(), pk=channel_id)
    following = selectors.is_following(request.user, channel)
    return render(request, "live/channel.html", {
        "channel": channel,
        "hosts": list(selectors.channel_hosts(channel)),
        "live": list(selectors.live_streams().filter(channel=channel)),
        "upcoming": list(selectors.upcoming_streams(channel=channel)),
        "following": following,
        "followers": channel.followers.count(),
    })


@require_POST
def follow(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(selectors.channels(), pk=channel_id)
    if not request.user.is_authenticated:
        if request.headers.get("HX-Request"):
            return HttpResponse(status=401, headers={"HX-Redirect": f"/accounts/login/?next=/live/channels/{channel.pk}/"})
        return redirect(f"/accounts/login/?next=/live/channels/{channel.pk}/")
    if request.POST.get("action") == "unfollow":
        streams.unfollow_channel(user=request.user, channel=channel)
        following = False
    else:
        streams.follow_channel(user=request.user, channel=channel)
        following = True
    context = {"channel": channel, "following": following, "followers": channel.followers.count()}
    if request.headers.get("HX-Request"):
        return render(request, "live/_follow.html", context)
    return redirect("live:channel", channel_id=channel.pk)


@require_GET
def room(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _stream_or_404(stream_id)
    pin = selectors.current_pin(stream)
    return render(request, "live/room.html", {
        "stream": stream,
        "shelf": list(selectors.shelf(stream)),
        "pin": pin,
        "gifts": selectors.gifts_offered(stream),
        "can_moderate": policy.can(request.user, "stream.moderate", stream),
        "player_template": _player_template(),
        "announcement": selectors.latest_announcement(stream.pk),
        "report_reasons": Report.Reason.choices,
    })


@login_required
@require_GET
def console(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _stream_or_404(stream_id)
    if not policy.can(request.user, "stream.moderate", stream):
        return HttpResponseForbidden(_("只有本场主播和所在县的运营人员可以进入控制台。"))
    return render(request, "live/console.html", {
        "stream": stream,
        "shelf": list(selectors.shelf(stream)),
        "pin": selectors.current_pin(stream),
        "reports": selectors.open_reports(stream),
        "is_host": selectors.is_stream_host(request.user, stream),
        "player_template": _player_template(),
        "panels": [name for name in CONSOLE_PANELS if _optional_template(name)],
        **views_hosts.thirds_context(stream),
    })


# Refusals the console explains in Chinese (the others show the error's own message).
_STATUS_MESSAGES = {
    "stream_approval_required": _("公职人员主播的直播须经本县纪检监察审批（主播、商品、价格）后方可开播。"),
    "stream_approval_outdated": _("审批后主播、商品或价格有变动，须经纪检监察重新审批后方可开播。"),
}


@login_required
@require_POST
def change_status(request: HttpRequest, stream_id: int, action: str) -> HttpResponse:
    """Start, end or cancel a stream from the console or the operator's list."""
    stream = _stream_or_404(stream_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action == "start":
            streams.start_stream(stream=stream, actor=request.user)
            messages.success(request, _("直播已开始。"))
        elif action == "end":
            streams.end_stream(stream=stream, actor=request.user, reason=reason)
            messages.success(request, _("直播已结束。"))
        elif action == "cancel":
            streams.cancel_stream(actor=request.user, stream=stream, reason=reason or _("运营取消"))
            messages.success(request, _("直播已取消。"))
        else:
            raise Http404()
    except DomainError as exc:
        messages.error(request, str(_STATUS_MESSAGES.get(exc.code, exc.message)))
    target = request.POST.get("next", "")
    if target.startswith("/live/") and "//" not in target:
        return redirect(target)
    return redirect("live:console", stream_id=stream.pk)


@login_required
@require_GET
def record(request: HttpRequest, stream_id: int) -> HttpResponse:
    """A stream's full record (chat incl. blocked and deleted, pins, moderation, reports, minutes)."""
    stream = _stream_or_404(stream_id)
    try:
        policy.require(request.user, "stream.audit", stream)
    except DomainError:
        return HttpResponseForbidden(_("无权查看这场直播的记录。"))
    tab = request.GET.get("tab", "chat")
    if tab not in RECORD_TABS:
        tab = "chat"
    data = selectors.stream_record(stream)
    page = Paginator(data[tab], RECORD_PAGE).get_page(request.GET.get("page"))
    tabs = [(key, label, data[key].count()) for key, label in RECORD_TABS.items()]
    context = {"stream": stream, "tab": tab, "page": page, "tabs": tabs}
    if request.headers.get("HX-Request"):
        return render(request, "live/_record_tab.html", context)
    return render(request, "live/record.html", context)


@login_required
@require_POST
def report(request: HttpRequest, stream_id: int) -> HttpResponse:
    """A viewer's report without the websocket (the room's JS uses the socket)."""
    stream = _stream_or_404(stream_id)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("举报内容不完整。"), status=422)
    try:
        moderation.report(reporter=request.user, stream=stream, reason=form.cleaned_data["reason"],
                          message_id=form.cleaned_data["message_id"], user_id=form.cleaned_data["user_id"],
                          note=form.cleaned_data["note"])
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=exc.status)
    return HttpResponse(_("举报已提交，运营人员会尽快处理。"))


@login_required
@require_POST
def handle_report(request: HttpRequest, report_id: int) -> HttpResponse:
    item = get_object_or_404(selectors.reports_with_stream(), pk=report_id)
    try:
        moderation.handle_report(actor=request.user, report_item=item, status=request.POST.get("status", ""),
                                 note=request.POST.get("note", "")[:300])
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=exc.status)
    if request.headers.get("HX-Request"):
        return HttpResponse(_("已处理"))
    return redirect("live:console", stream_id=item.stream_id)


# --- operator pages ------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> bool:
    return policy.can(request.user, "live.operate")


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """An operator's streams, and the county channel (created here if missing)."""
    user = request.user
    channels = list(selectors.channels_for_staff(user))
    if not channels and not _staff(request) and not selectors.has_host_profile(user):
        return HttpResponseForbidden(_("只有县级运营人员和主播可以管理直播。"))
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and _staff(request) and form.is_valid() and user.region is not None:
        county = user.region if user.region.level == "county" else user.region.ancestor_at("county")
        try:
            if county is None:
                raise DomainError(_("你的管辖区域不是县级，无法创建县级频道。"))
            streams.create_channel(actor=user, county=county, name=form.cleaned_data["name"],
                                   description=form.cleaned_data["description"])
            messages.success(request, _("频道已创建。"))
            return redirect("live:manage")
        except DomainError as exc:
            messages.error(request, str(exc.message))
    page = Paginator(selectors.streams_for_staff(user), 50).get_page(request.GET.get("page"))
    return render(request, "live/manage.html", {"channels": channels, "page": page, "channel_form": form,
                                                "is_operator": _staff(request), "now": timezone.now()})


@login_required
def schedule(request: HttpRequest) -> HttpResponse:
    if not _staff(request):
        return HttpResponseForbidden(_("只有县级运营人员可以安排直播。"))
    channels = list(selectors.channels_for_staff(request.user))
    if not channels:
        messages.error(request, _("请先创建本县的官方频道。"))
        return redirect("live:manage")
    try:
        channel = next(c for c in channels if str(c.pk) == request.GET.get("channel", request.POST.get("channel", "")))
    except StopIteration:
        channel = channels[0]
    hosts = selectors.hosts_for_staff(request.user).filter(channel=channel)
    form = ScheduleForm(request.POST or None, hosts=hosts, channel=channel)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stream = streams.schedule_stream(actor=request.user, host=data["host"], title=data["title"],
                                             planned_start=data["planned_start"], planned_end=data["planned_end"],
                                             products=data["products"], description=data["description"])
        except DomainError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("直播《%(title)s》已安排。") % {"title": stream.title})
            return redirect("live:manage")
    return render(request, "live/schedule.html", {"form": form, "channel": channel, "channels": channels})


@login_required
def hosts(request: HttpRequest) -> HttpResponse:
    if not _staff(request):
        return HttpResponseForbidden(_("只有县级运营人员可以管理主播。"))
    channels = list(selectors.channels_for_staff(request.user))
    form = HostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = selectors.user_by_username(data["username"])
        channel = next((c for c in channels if str(c.pk) == request.POST.get("channel")), channels[0] if channels else None)
        if user is None:
            form.add_error("username", _("没有这个用户名的账号。"))
        elif channel is None:
            form.add_error(None, _("请先创建本县的官方频道。"))
        else:
            try:
                streams.create_host(actor=request.user, user=user, channel=channel, kind=data["kind"],
                                    title=data["title"], bio=data["bio"],
                                    is_public_servant=data["is_public_servant"])
            except DomainError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, _("主播已添加，请完成实名认证后再安排直播。"))
                return redirect("live:hosts")
    host_list = list(selectors.hosts_for_staff(request.user).select_related("identity"))
    return render(request, "live/hosts.html", {
        "hosts": host_list,
        # Whose full ID number this user may open: the hosts they verified or whose identity they recorded.
        "revealable": {h.pk for h in host_list if realname.may_see_full_number(request.user, h)},
        "channels": channels,
        "form": form,
        "verify_form": VerifyForm(),
    })


@login_required
@require_POST
def verify_host(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(selectors.hosts(), pk=host_id)
    try:
        if request.POST.get("action") == "revoke":
            streams.revoke_host_verification(actor=request.user, host=host,
                                             reason=request.POST.get("note", "")[:300] or _("撤销"))
            messages.success(request, _("已撤销认证。"))
        else:
            form = VerifyForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("请选择认证方式。"))
            data = form.cleaned_data
            streams.verify_host(actor=request.user, host=host, method=data["method"], note=data["note"],
                                real_name=data["real_name"] or None, id_number=data["id_number"] or None)
            messages.success(request, _("主播 %(name)s 已通过实名认证。") % {"name": host.user})
    except DomainError as exc:
        messages.error(request, views_hosts.error_text(exc))
    return redirect("live:hosts")

