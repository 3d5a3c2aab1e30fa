"""Websocket URL patterns, gathered from each app's `routing.py`."""

from importlib import import_module

websocket_urlpatterns = []
for _app in ["live", "video", "orders", "insights"]:
    _name = f"zhunong.{_app}.routing"
    try:
        websocket_urlpatterns += import_module(_name).websocket_urlpatterns
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
