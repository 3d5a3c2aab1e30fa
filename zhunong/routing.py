"""Websocket URL patterns of the whole site: the live room (zhunong.live.routing) and a signed-in user's own
events (zhunong.notifications.routing)."""

from zhunong.live import routing as live_routing
from zhunong.notifications import routing as notifications_routing

websocket_urlpatterns = [*live_routing.websocket_urlpatterns, *notifications_routing.websocket_urlpatterns]
