"""API authentication: bearer tokens, or the browser session (with CSRF) for pages using htmx."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from .services import user_for_token


class BearerToken(HttpBearer):
    def presented(self, request) -> str:  # noqa: ANN001
        """The bearer token in this request's Authorization header, or ""."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def authenticate(self, request, token: str):  # noqa: ANN001, ANN201
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The session cookie, for requests that do not present a bearer token. A request with an
    Authorization header is an API client: an unknown or revoked token answers 401 `not_authenticated`
    (docs/api.md), instead of falling through to the session check and its CSRF refusal (403)."""

    def __call__(self, request):  # noqa: ANN001, ANN204
        if "authorization" in request.headers:
            return None
        return super().__call__(request)


bearer = BearerToken()
# Endpoints that need a logged-in user accept either.
auth_required = [bearer, BrowserSession()]
