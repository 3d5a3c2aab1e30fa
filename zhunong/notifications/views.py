"""Pages: the notification centre, channel choices per kind, and the "following" page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhunong.core.errors import DomainError

from . import selectors, services
from .kinds import Channel


@login_required
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {"page": page,
                                                         "unread": selectors.unread_count(request.user)})


@login_required
@require_POST
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        note = services.mark_read(user=request.user, notification_id=notification_id)
    except DomainError:
        raise Http404() from None
    # Opening a notification reads it and goes where it points (only ever a path on this site).
    if request.POST.get("open") and note.url.startswith("/") and not note.url.startswith("//"):
        return redirect(note.url)
    return redirect("notifications:centre")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(user=request.user)
    return redirect("notifications:centre")


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        try:
            for kind, _label, _chosen in selectors.preferences_of(request.user):
                services.set_channels(user=request.user, kind=kind, channels=request.POST.getlist(kind))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 422
        else:
            messages.success(request, _("通知设置已保存。"))
            return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {
        "rows": selectors.preferences_of(request.user), "channels": Channel.choices}, status=status)


@login_required
@require_GET
def following(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/following.html", {"following": selectors.following(request.user)})


@login_required
@require_POST
def follow_host(request: HttpRequest, host_id: int) -> HttpResponse:
    try:
        if request.POST.get("action") == "unfollow":
            services.unfollow_host(user=request.user, host_id=host_id)
        else:
            services.follow_host(user=request.user, host_id=host_id)
    except DomainError:
        raise Http404() from None
    return redirect("notifications:following")


@login_required
@require_POST
def follow_stream(request: HttpRequest, stream_id: int) -> HttpResponse:
    """"Remind me" on a stream: follow its host. A cancelled or ended stream says why, changing nothing."""
    try:
        services.follow_stream_host(user=request.user, stream_id=stream_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404() from None
        messages.error(request, _("这场直播已取消或已结束，无法订阅提醒。"))
        return redirect("notifications:following")
    messages.success(request, _("已关注主播，开播前会提醒您。"))
    return redirect("notifications:following")
