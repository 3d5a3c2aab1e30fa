"""Relay realtime events from another process to the web server's channel layer (embedded setup).

Without REDIS_URL the channel layer lives in memory, one per process: an event the Huey worker publishes
(a flash sale's countdown ending, an expired reservation giving stock back) would reach no room. So
`zhunong serve` gives its worker ZHUNONG_EVENT_RELAY_URL (settings.EVENT_RELAY_URL), `core.events` posts
each event there instead of sending it to its own layer, and `relay_event` (in the web process, where the
rooms' hubs listen) hands it to the layer there. With REDIS_URL every process shares one layer: no relay,
and the endpoint answers 404.

The post is `{"group": ..., "event": ...}` signed with HMAC-SHA256 under a key derived from SECRET_KEY
(both processes read the same one); the endpoint takes it only from loopback and with a valid signature.
The signature header is `t=<unix time>,n=<random nonce>,v1=<hex HMAC of "<t>.<n>." + body>`: a post older
(or newer) than MAX_AGE_SECONDS is refused, and so is a nonce already seen within that window, so a
captured post cannot be replayed.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from channels.layers import get_channel_layer
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Zhunong-Relay-Signature"
_SALT = "zhunong.core.relay.event"
TIMEOUT = 2.0  # seconds; the worker must not hang on a web server that is restarting
MAX_BODY = 256 * 1024  # a shelf of many products is the largest event; far below this
# The groups core.events and its callers build: room.<stream id> (core.events.room_group) and
# user.<user id> (orders.services.user_group).
GROUP_RE = re.compile(r"^(room|user)\.[0-9]{1,18}$")
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$")

# The relay goes to this machine: never through an HTTP(S)_PROXY from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def enabled() -> bool:
    return bool(settings.EVENT_RELAY_URL) and not settings.REDIS_URL


MAX_AGE_SECONDS = 60  # worker and web server share one clock; a post takes milliseconds
MAX_NONCES = 100_000  # seen nonces kept (for MAX_AGE_SECONDS each); far above any event rate
NONCE_RE = re.compile(r"^[0-9a-f]{32}$")

_seen: dict[str, float] = {}  # nonce → when it may be forgotten
_seen_lock = threading.Lock()


def _digest(prefix: bytes, body: bytes) -> str:
    return salted_hmac(_SALT, prefix + body, algorithm="sha256").hexdigest()


def sign(body: bytes, *, timestamp: int | None = None, nonce: str | None = None) -> str:
    """The signature header's value for `body`: `t=<unix time>,n=<nonce>,v1=<hex HMAC>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    return f"t={timestamp},n={nonce},v1={_digest(f'{timestamp}.{nonce}.'.encode(), body)}"


class RefusedSignature(Exception):
    """The relay's signature is missing, forged, stale or replayed (the reason is logged, never answered)."""


def _remember(nonce: str, now: float) -> bool:
    """Record a nonce; False if it was seen within the window (or too many are held to tell)."""
    with _seen_lock:
        if len(_seen) >= MAX_NONCES:
            for old in [n for n, until in _seen.items() if until <= now]:
                del _seen[old]
            if len(_seen) >= MAX_NONCES:
                return False
        if nonce in _seen and _seen[nonce] > now:
            return False
        _seen[nonce] = now + 2 * MAX_AGE_SECONDS + 1
        return True


def verify(body: bytes, header: str | None, *, now: float | None = None, remember: bool = True) -> None:
    """Raise RefusedSignature unless `header` signs `body`, is fresh, and its nonce is new."""
    now = time.time() if now is None else now
    try:
        fields = dict(item.split("=", 1) for item in (header or "").split(","))
        timestamp, nonce, digest = int(fields["t"]), fields["n"], fields["v1"]
    except (KeyError, ValueError):
        raise RefusedSignature("malformed signature")
    if not NONCE_RE.fullmatch(nonce):
        raise RefusedSignature("malformed nonce")
    if not constant_time_compare(digest, _digest(f"{timestamp}.{nonce}.".encode(), body)):
        raise RefusedSignature("bad signature")
    if abs(now - timestamp) > MAX_AGE_SECONDS:
        raise RefusedSignature("stale timestamp")
    if remember and not _remember(nonce, now):
        raise RefusedSignature("replayed nonce")


def _host_header(url: str) -> dict[str, str]:
    """A Host header the web server's ALLOWED_HOSTS accepts (an operator may list only the public name)."""
    domain, _ = split_domain_port(urlsplit(url).netloc)
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if domain and validate_host(domain, allowed):
        return {}
    for entry in allowed:
        if entry != "*":
            return {"Host": entry.lstrip(".")}
    return {}


def post(group: str, event: dict[str, Any]) -> None:
    """Send one event to the web server's layer through EVENT_RELAY_URL; log, never raise."""
    url = settings.EVENT_RELAY_URL
    try:
        body = json.dumps({"group": group, "event": event}, ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body), **_host_header(url)},
        )
        with _opener.open(request, timeout=TIMEOUT) as response:
            response.read()
    except Exception:  # the commit already happened; a lost realtime event must not fail the task
        log.exception("could not relay %s to %s through %s", event.get("type"), group, url)


def _from_loopback(request: HttpRequest) -> bool:
    # A request that came through a proxy is not the worker's, whatever address the proxy connects from.
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _parse(body: bytes) -> tuple[str, dict[str, Any]] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"group", "event"}:
        return None
    group, event = data["group"], data["event"]
    if not isinstance(group, str) or not GROUP_RE.fullmatch(group):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not TYPE_RE.fullmatch(event["type"]):
        return None
    return group, event


@csrf_exempt  # signed, loopback only; there is no browser session to protect
async def relay_event(request: HttpRequest) -> HttpResponse:
    """POST /internal/events/: the worker's event, into this process's channel layer.

    An async view: it runs on the event loop, next to the in-memory layer and the rooms' hubs, without
    queueing behind the one thread Django runs sync views in.
    """
    if settings.REDIS_URL:
        raise Http404()  # the layer is shared: nothing to relay, and no endpoint to probe
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _from_loopback(request):
        return HttpResponse(status=403)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > MAX_BODY:
        return HttpResponse(status=400)
    body = request.body
    if len(body) > MAX_BODY:
        return HttpResponse(status=400)
    try:
        verify(body, request.headers.get(SIGNATURE_HEADER))
    except RefusedSignature as exc:
        log.warning("refused a relayed event: %s", exc)
        return HttpResponse(status=403)
    parsed = _parse(body)
    if parsed is None:
        return HttpResponse(status=400)
    layer = get_channel_layer()
    if layer is None:
        return HttpResponse(status=503)
    await layer.group_send(*parsed)
    return HttpResponse(status=204)
