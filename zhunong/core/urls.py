"""Core's URLs (mounted at the site root by zhunong/urls.py): internal endpoints and the per-viewer header fragment, no pages."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import publiccache, relay

app_name = "core"

urlpatterns = [
    # The Huey worker's realtime events in the embedded setup (no REDIS_URL); loopback and signed only.
    path("internal/events/", relay.relay_event, name="relay_event"),
    # The header's personal part for pages the front caches the same for everyone (core/publiccache.py).
    path("me/nav/", publiccache.personal_nav, name="personal_nav"),
    # Pages not built on base.html (the admin, the API docs) name no icon, so browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=static("zhunong/favicon.svg"), permanent=True), name="favicon"),
]
