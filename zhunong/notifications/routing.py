"""Websocket routes of the notifications app (gathered by zhunong/routing.py)."""

from django.urls import re_path

from .consumers import MeConsumer

websocket_urlpatterns = [
    re_path(r"^ws/me/$", MeConsumer.as_asgi()),
]
