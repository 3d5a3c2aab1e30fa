"""Websocket routes of the live app (gathered by zhunong/routing.py)."""

from django.urls import re_path

from .consumers import RoomConsumer

# Any id shape reaches the consumer, so a bad id gets a clear error frame and close code, not a refusal.
websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<stream_id>[^/]{1,24})/$", RoomConsumer.as_asgi()),
]
