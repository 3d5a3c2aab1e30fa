"""Websocket URL patterns of the whole site: today only the live room (zhunong.live.routing) has any."""

from zhunong.live import routing as live_routing

websocket_urlpatterns = [*live_routing.websocket_urlpatterns]
