"""Video pages and the media server's callbacks.

Callbacks come from nginx-rtmp over local HTTP (it cannot call HTTPS). They are accepted only from the
configured addresses with the callback token in the URL; the answer's status is what nginx acts on.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from zhunong.accounts import policy
from zhunong.core.errors import DomainError

from . import selectors, services
from .conf import video_settings
from .errors import PUBLISH_REFUSALS, ForbiddenSource, MalformedCallback, ReplayNotFound

log = logging.getLogger("zhunong.video.callbacks")

# URL event → the `call` values nginx sends to it.
CALLBACKS = {
    "publish": {"publish"},
    "publish_done": {"publish_done"},
    "update": {"update_publish", "update_play"},
    "record_done": {"record_done"},
}


def callback_source(request: HttpRequest) -> str:
    """The address a callback came from, or "" when it cannot be told.

    A request with no forwarding header connected directly (nginx-rtmp calls VIDEO_CALLBACK_BASE_URL
    itself): REMOTE_ADDR. One that passed through a reverse proxy carries X-Forwarded-For / Forwarded, and
    its REMOTE_ADDR is the proxy's (127.0.0.1 for a front nginx on the same machine, for every internet
    client): behind `TRUSTED_PROXY_COUNT` proxies the address is the one the outermost trusted proxy saw
    (counted from the right of X-Forwarded-For, which clients can forge on the left), as for the rest of the
    platform; through a proxy the platform was not told about, nothing can be told.
    """
    meta = request.META
    if "HTTP_X_FORWARDED_FOR" not in meta and "HTTP_FORWARDED" not in meta:
        return meta.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if proxies <= 0 or len(hops) < proxies:
        return ""
    return hops[-proxies][:45]


def _check_source(request: HttpRequest) -> None:
    s = video_settings()
    try:
        ip = ipaddress.ip_address(callback_source(request))
    except ValueError:
        raise ForbiddenSource()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not any(ip.version == net.version and ip in net for net in s.callback_networks):
        raise ForbiddenSource()
    token = request.GET.get("token", "")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), s.callback_token.encode()):
        raise ForbiddenSource()


@csrf_exempt
@require_POST
def rtmp_callback(request: HttpRequest, event: str) -> HttpResponse:
    """nginx-rtmp notify endpoint: 2xx allows, 3xx renames (publish), anything else drops the client."""
    if event not in CALLBACKS:
        raise Http404()
    source = callback_source(request) or request.META.get("REMOTE_ADDR", "")
    callback = None
    try:
        _check_source(request)
        try:
            data = dict(request.POST.lists())
        except SuspiciousOperation:
            raise MalformedCallback(details={"field": "body"})
        callback = services.parse_callback(data, calls=CALLBACKS[event])
        if event == "publish":
            connection = services.authorize_publish(callback=callback)
            # A Location that is not an rtmp:// URL renames the stream inside nginx: from here on the
            # live, record and relay modules know it by its id, and the HLS is made under that name.
            response = HttpResponse(status=302)
            response["Location"] = str(connection.ingest.stream_id)
            return response
        if event == "publish_done":
            services.publisher_gone(callback=callback)
        elif event == "update":
            services.check_update(callback=callback)
        elif event == "record_done":
            services.register_recording(callback=callback)
        return HttpResponse(status=204)
    except PUBLISH_REFUSALS as exc:
        services.record_refusal(error=exc, call=callback.call if callback else event, source_addr=source,
                                publisher_addr=callback.addr if callback else "",
                                app=callback.app if callback else "")
        return HttpResponse(status=403)
    except DomainError as exc:
        log.warning("media callback %s rejected: %s", event, exc.code)
        return HttpResponse(status=403)
    except Exception:
        # Never let a bug become a 2xx; nginx drops the publisher on a 5xx.
        log.exception("media callback %s failed", event)
        return HttpResponse(status=500)


# --- pages ---------------------------------------------------------------------------------------------------

@login_required
@require_GET
def ingests(request: HttpRequest) -> HttpResponse:
    """Operators: every live ingest in their region with its health, and recent refused publishes."""
    if not policy.can(request.user, "live.operate"):
        raise DjangoPermissionDenied(_("只有县级运营和平台管理员可以查看推流状态。"))
    context = {
        "ingests": list(selectors.ingests_for_operator(request.user)),
        "refusals": selectors.refusals_for_operator(request.user),
        "grace_seconds": video_settings().grace_seconds,
    }
    template = "video/_ingest_rows.html" if request.headers.get("HX-Request") else "video/ingests.html"
    return render(request, template, context)


@require_GET
def ingest_panel(request: HttpRequest, stream_id: int) -> HttpResponse:
    """The host console's ingest panel (polled by htmx); the key only for the stream's own host."""
    stream = get_object_or_404(selectors.streams(), pk=stream_id)
    if not policy.can(request.user, "stream.moderate", stream):
        raise DjangoPermissionDenied(_("只有主播本人和运营人员可以查看推流状态。"))
    return render(request, "video/_ingest_panel.html", {"stream": stream})


@login_required
@require_POST
def rotate_key(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = get_object_or_404(selectors.streams(), pk=stream_id)
    try:
        services.rotate_key(stream=stream, actor=request.user)
    except DomainError as exc:
        raise DjangoPermissionDenied(str(exc.message))
    if request.headers.get("HX-Request"):
        return render(request, "video/_ingest_panel.html", {"stream": stream})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = f"/video/streams/{stream.pk}/panel/"
    return redirect(target)


REPLAYS_PER_PAGE = 24


@require_GET
def replay_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.replays_ready(), REPLAYS_PER_PAGE).get_page(request.GET.get("page"))
    items = [{"replay": r, "urls": selectors.replay_urls(r)} for r in page.object_list]
    return render(request, "video/replay_list.html", {"page": page, "items": items})


@require_GET
def replay_detail(request: HttpRequest, replay_id: int) -> HttpResponse:
    try:
        replay = selectors.replay_detail(replay_id)
    except ReplayNotFound:
        raise Http404(_("没有这个回放。"))
    chapters = list(replay.chapters.all())
    start = request.GET.get("t", "")
    try:
        start_s = max(0.0, min(float(start), replay.duration_s or 0.0)) if start else 0.0
    except ValueError:
        start_s = 0.0
    # Without JavaScript, ?t= picks the chapter whose products the shelf shows.
    current = [c for c in chapters if c.start_s <= start_s < c.end_s]
    return render(request, "video/replay_detail.html", {
        "replay": replay, "urls": selectors.replay_urls(replay), "chapters": chapters,
        "chapters_json": selectors.chapters_json(replay), "start_s": start_s, "current": current,
    })
