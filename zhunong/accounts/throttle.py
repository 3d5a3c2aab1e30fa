"""Throttling of sign-in and registration (docs/decisions/0006-login-throttling-and-browser-security.md).

Sign-in (`POST /api/v1/auth/token`, the login page, `/admin/login/`) is throttled by django-axes: after
`AXES_FAILURE_LIMIT` failures of one username from one address, that pair is locked out for
`AXES_COOLOFF_TIME`; `lockout_response` answers every locked-out attempt (settings.AXES_LOCKOUT_CALLABLE).
Registration is throttled per address here: at most `REGISTER_LIMIT` attempts per `REGISTER_WINDOW_MINUTES`.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from zhunong.core.clientaddr import client_address

from .errors import TooManyAttempts
from .models import RegistrationAttempt

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address (core.clientaddr: REMOTE_ADDR, or the one the outermost of `TRUSTED_PROXY_COUNT`
    proxies saw), "unknown" when there is no valid address (a request built in code, a malformed header)."""
    return client_address(request) or "unknown"


def client_ip_for_axes(request: HttpRequest) -> str | None:
    """axes stores the address in an IP field (PostgreSQL's inet): None rather than "unknown"."""
    address = client_ip(request)
    return None if address == "unknown" else address


def username_for_axes(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username axes counts failures under, cut to a username's longest length (150): axes stores it in a
    255-character column, which PostgreSQL enforces (an over-long attempt must stay a 401, not a 500)."""
    if credentials:
        username = credentials.get("username")
    else:
        try:
            username = request.POST.get("username")
        except Exception:  # a malformed form body: nothing to count it under
            username = None
    return None if username is None else str(username)[:150]


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


class RequestAxesBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request. Internal callers without a request (the test
    builders, the benchmarks, a management command) are not network clients: they are not throttled."""

    def authenticate(self, request, username=None, password=None, **kwargs):  # noqa: ANN001, ANN201
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:  # noqa: ANN001
    """What a locked-out sign-in gets: 429 with Retry-After; JSON `too_many_attempts` under /api/, a page otherwise."""
    retry = cool_off_seconds()
    log.warning("sign-in locked out: address %s, %s attempts per username and address within %s s",
                client_ip(request), settings.AXES_FAILURE_LIMIT, retry)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(TooManyAttempts(retry_after=retry).as_dict(), status=429,
                                              json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "accounts/locked_out.html", {"minutes": math.ceil(retry / 60)}, status=429)
    response["Retry-After"] = str(retry)
    return response


def check_registration(request: HttpRequest) -> None:
    """Count one registration attempt from this request's address; TooManyAttempts (429) over the limit.
    An attempt refused here is not counted, so a client that waits gets through."""
    address = client_ip(request)
    now = timezone.now()
    window = timedelta(minutes=settings.REGISTER_WINDOW_MINUTES)
    RegistrationAttempt.objects.filter(at__lte=now - window).delete()
    recent = RegistrationAttempt.objects.filter(address=address, at__gt=now - window)
    if recent.count() >= settings.REGISTER_LIMIT:
        oldest = recent.order_by("at").values_list("at", flat=True).first()
        retry = max(1, math.ceil(((oldest + window) - now).total_seconds())) if oldest else int(window.total_seconds())
        log.warning("registration throttled: address %s, %s attempts within %s min", address,
                    settings.REGISTER_LIMIT, settings.REGISTER_WINDOW_MINUTES)
        raise TooManyAttempts(retry_after=retry)
    RegistrationAttempt.objects.create(address=address, at=now)
