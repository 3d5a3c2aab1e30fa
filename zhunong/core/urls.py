"""Core's URLs (mounted at the site root by zhunong/urls.py): internal endpoints only, no pages."""

from django.urls import path

from . import relay

app_name = "core"

urlpatterns = [
    # The Huey worker's realtime events in the embedded setup (no REDIS_URL); loopback and signed only.
    path("internal/events/", relay.relay_event, name="relay_event"),
]
