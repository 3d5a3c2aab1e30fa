"""API authentication: bearer tokens, or the browser session (with CSRF) for pages using htmx."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from .services import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):  # noqa: ANN001, ANN201
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerToken()
# Endpoints that need a logged-in user accept either.
auth_required = [bearer, SessionAuth()]
