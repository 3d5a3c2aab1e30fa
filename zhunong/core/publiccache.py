"""Which responses the HTTP front (nginx, `zhunong front`) may keep for a second, and how they are made
the same for every viewer (docs/decisions/0022-the-front-cache.md).

The app decides, nginx obeys: nginx caches only responses that carry `X-Accel-Expires` (the generated
configuration ignores `Cache-Control`/`Expires` and never stores a response that sets a cookie), and only
this middleware sends that header. A page is rendered "public-shaped" when its URL name is in
`PUBLIC_PAGES` (or its path matches `PUBLIC_API`) and the request is a GET/HEAD:

- the view sees an anonymous user (`request.user` is replaced before the view runs, so the session is
  never read and no `Vary: Cookie` appears), and templates get no CSRF token and no messages
  (`context` below overrides Django's context processors);
- base.html then renders the header's personal part as a placeholder that htmx fills from `GET /me/nav/`
  (`personal_nav` below: the signed-in name, order links, the CSRF token for the page's forms);
- the response is marked cacheable only if it still looks public: status 200, no cookie set, no
  `Vary: Cookie`, not private/no-store, and its language is the one the front keyed it under.

Pages marked `ANONYMOUS_ONLY` (the live room: its chat box and moderation link depend on who is signed
in) are public-shaped only for requests without a session cookie; nginx bypasses its cache for the others.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import get_supported_language_variant
from django.views.decorators.http import require_GET

from zhunong.core.redirects import local_path

# URL names (namespace:name) of the pages that are the same for every viewer once the header's personal
# part is loaded separately.
PUBLIC_PAGES = frozenset({
    "storefront:home",
    "storefront:product",
    "storefront:search",
    "video:replays",
    "quality:lookup",
    "quality:trace",
})
# Public-shaped for anonymous requests only (a signed-in viewer gets their own, uncached page).
ANONYMOUS_ONLY = frozenset({
    "live:room",
})
# Public API reads (operations declared `auth=None` that answer the same to everyone).
PUBLIC_API = (
    re.compile(r"^/api/v1/products$"),
    re.compile(r"^/api/v1/products/[0-9]+$"),
    re.compile(r"^/api/v1/live/streams$"),
    re.compile(r"^/api/v1/live/streams/[0-9]+$"),
    re.compile(r"^/api/v1/live/channels$"),
)
# The paths the front looks up in its cache (core/front.py), which must cover the pages above (a test checks
# both ways); every other request goes straight through, without a cache lookup or lock.
CACHED_PATHS = (
    r"^/$",
    r"^/p/[0-9]+/$",
    r"^/search/$",
    r"^/replays/$",
    r"^/t/$",
    r"^/t/[^/]+/$",
    r"^/live/[0-9]+/$",
    *(pattern.pattern for pattern in PUBLIC_API),
)
# Of those, the ones the front must not answer from its cache to a request with a session cookie.
ANONYMOUS_ONLY_PATHS = (r"^/live/[0-9]+/$",)
# nginx keys its cache by the language it works out from the language cookie (docs/deploy.md) and sends it
# in this header; a response in another language is never marked cacheable.
LANGUAGE_KEY_HEADER = "HTTP_X_ZHUNONG_LANGUAGE_KEY"
# A page rendered in the first FRESH_MARGIN seconds of a clock second is stored already stale (see
# `expires_at`), so a page is never served more than a second after it was rendered while its refresh
# takes under FRESH_MARGIN.
FRESH_MARGIN = 0.2


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


def public_shape(request: HttpRequest) -> bool:
    """Whether this request is to be rendered the same for every viewer (and may then be cached)."""
    if request.method not in ("GET", "HEAD"):
        return False
    name = _view_name(request)
    if name in PUBLIC_PAGES:
        return True
    if name in ANONYMOUS_ONLY:
        return settings.SESSION_COOKIE_NAME not in request.COOKIES
    return any(pattern.match(request.path) for pattern in PUBLIC_API)


def expires_at(now: float) -> int:
    """The last whole second (Unix time) in which nginx may serve a page rendered at `now` as fresh.

    nginx compares whole seconds: `X-Accel-Expires: @T` keeps the page fresh until the clock reaches T + 1.
    T = floor(now) ends freshness at the next whole second, less than 1 s after rendering. A page rendered
    in the first FRESH_MARGIN s of a second is stored stale (T = floor(now) - 1): the next request refreshes
    it, so the stale copy handed to requests meanwhile is as old as one refresh, not a second and more.
    """
    second = math.floor(now)
    return second - 1 if now - second < FRESH_MARGIN else second


def _language_matches(request: HttpRequest, response: HttpResponse) -> bool:
    """The response's language is the one nginx keyed it under (or nginx keyed by Accept-Language, which
    the response's `Vary` covers, and Django did not take the language from the cookie)."""
    key = request.META.get(LANGUAGE_KEY_HEADER)
    if key is None:  # not through the front (tests, direct requests): nothing to match
        return True
    language = response.get("Content-Language", "") or getattr(request, "LANGUAGE_CODE", "")
    if key:
        return key == language
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie:
        try:
            get_supported_language_variant(cookie)
        except LookupError:
            return True
        return False  # Django chose by a cookie nginx did not recognise
    return True


def cacheable(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether a public-shaped response may be shared: personal-looking responses never are."""
    if response.status_code != 200 or response.streaming:
        return False
    if response.cookies:
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    if "cookie" in vary or "*" in vary:
        return False
    control = response.get("Cache-Control", "").lower()
    if "private" in control or "no-store" in control or "no-cache" in control:
        return False
    return _language_matches(request, response)


class PublicCacheMiddleware:
    """Renders public pages the same for every viewer and marks them cacheable for the front (above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "zh_public", False) and cacheable(request, response):
            response["X-Accel-Expires"] = f"@{expires_at(time.time())}"
            # Browsers revalidate; shared caches beyond the front (a CDN) keep it at most a second.
            patch_cache_control(response, public=True, max_age=0, s_maxage=1)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:  # noqa: ANN001
        if public_shape(request):
            request.zh_public = True
            request.user = AnonymousUser()
        return None


def context(request: HttpRequest) -> dict:
    """Template context of a public-shaped page: no token, no messages, no user (must run last)."""
    if not getattr(request, "zh_public", False):
        return {}
    return {"zh_public_page": True, "csrf_token": "", "messages": (), "user": request.user}


@require_GET
def personal_nav(request: HttpRequest) -> HttpResponse:
    """`GET /me/nav/?next=<path>`: the header's personal part for the signed-in viewer (or the sign-in
    links), with the CSRF token the page's forms need. Never cached by anyone."""
    next_path = local_path(request.GET.get("next"), "/")
    response = render(request, "includes/personal_nav_fragment.html", {"next_path": next_path[:2000]})
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response
