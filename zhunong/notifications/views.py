"""Pages: the notification centre, channel choices per kind, and the "following" page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from zhunong.core.errors import DomainError
from zhunong.core.redirects import local_path

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


# --- 预约 (booking one stream's reminder) -------------------------------------------------------------------

# Streams whose state one GET /following/bookings/ reports at most (the home page lists 12).
MAX_BOOKING_IDS = 50


def _booking_origin(request: HttpRequest, stream_id: int) -> str:
    """Where the 预约 button was (its form's `next`: the home page or the room), else the stream's room."""
    return local_path(request.POST.get("next"), reverse("live:room", args=[stream_id]))


def _book_button(request: HttpRequest, stream, *, booked: bool, next_path: str, oob: bool = False,  # noqa: ANN001
                 error: str = "") -> HttpResponse:
    return render(request, "notifications/_book_button.html",
                  {"stream": stream, "booked": booked, "next_path": next_path, "oob": oob, "error": error})


@csrf_exempt
@require_POST
def book_stream(request: HttpRequest, stream_id: int) -> HttpResponse:
    """预约 / 取消预约 of one scheduled stream, from the home page or the room.

    Both pages may be the front's shared copy, whose forms carry no CSRF token without JavaScript; a
    signed-out POST changes nothing (it only leads to sign-in, then back to the page it came from), so it
    is let through, and every signed-in request is checked (`_book_signed_in` is csrf_protect'ed)."""
    origin = _booking_origin(request, stream_id)
    if not request.user.is_authenticated:
        login = redirect_to_login(origin)
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login["Location"]
            return response
        return login
    return _book_signed_in(request, stream_id, origin)


@csrf_protect
def _book_signed_in(request: HttpRequest, stream_id: int, origin: str) -> HttpResponse:
    cancel = request.POST.get("action") == "cancel"
    htmx = request.headers.get("HX-Request") == "true"
    try:
        if cancel:
            stream = services.cancel_booking(user=request.user, stream_id=stream_id)
        else:
            stream = services.book_stream(user=request.user, stream_id=stream_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404() from None
        error = _("这场直播已开始、已取消或已结束，无法预约。")
        if htmx:
            return HttpResponse(f'<p class="error small" role="alert">{error}</p>')
        messages.error(request, error)
        return redirect(origin)
    if htmx:
        return _book_button(request, stream, booked=not cancel, next_path=origin)
    messages.success(request, _("已取消预约。") if cancel else _("已预约，开播前 15 分钟会提醒您。"))
    return redirect(origin)


@never_cache
@require_GET
def bookings(request: HttpRequest) -> HttpResponse:
    """`GET /following/bookings/?streams=1,2&next=/`: the signed-in viewer's 预约 buttons for these streams as
    htmx out-of-band swaps, so a page cached the same for everyone shows 已预约 for whoever booked. Empty
    for a signed-out viewer (the shared page's buttons already lead to sign-in)."""
    if not request.user.is_authenticated:
        return HttpResponse("")
    ids = [int(part) for part in request.GET.get("streams", "").split(",")[:MAX_BOOKING_IDS]
           if part.isdigit() and len(part) < 19]
    next_path = local_path(request.GET.get("next"), "/")
    streams = selectors.bookable_streams(ids)
    booked = selectors.booked_stream_ids(request.user, [s.pk for s in streams])
    return render(request, "notifications/_bookings.html", {
        "rows": [{"stream": s, "booked": s.pk in booked} for s in streams], "next_path": next_path})
