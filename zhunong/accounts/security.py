"""Browser security middleware (docs/decisions/0006-login-throttling-and-browser-security.md)."""

from __future__ import annotations

from csp.middleware import CSPMiddleware as _CSPMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class CSPMiddleware(_CSPMiddleware):
    """django-csp's middleware, without its after-response guard. The pages use no nonce (script-src 'self'),
    and the guard, a lazy `request.csp_nonce` that raises when touched once the header is written, breaks any
    code that inspects every live object (`isinstance` over `gc.get_objects()` in live's leak tests)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().process_response(request, response)
        if getattr(request, "_csp_nonce", None) is None:
            request.__dict__.pop("csp_nonce", None)
        return response
