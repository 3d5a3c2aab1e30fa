"""The address a request came from, honouring the reverse proxies the deployment trusts.

`settings.TRUSTED_PROXY_COUNT` (0: no proxy, REMOTE_ADDR is the client) says how many proxies append to
X-Forwarded-For; the client is the N-th hop from the right, since a client can forge the left of the header.
In core so that the audit log (core.audit) and the sign-in throttle (accounts.throttle) read it the same way.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's address, or None when there is no valid one (a request built in code, a bad header)."""
    remote = valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    return valid_ip(hops[-proxies]) or remote
