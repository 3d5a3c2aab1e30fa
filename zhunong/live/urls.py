"""Live pages (mounted at the site root by zhunong/urls.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import translation
from django.views.i18n import JavaScriptCatalog

from . import views

app_name = "live"


class RoomCatalogue(JavaScriptCatalog):
    """The room scripts' strings (djangojs domain of zhunong/locale) as Django's JavaScript catalogue.

    The page names its own language (`?lang=`), so the script always matches the page it is on; without
    one (or an unknown one), the request's language applies as for any page."""

    packages = ["zhunong.live"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        try:
            language = translation.get_supported_language_variant(request.GET.get("lang", ""))
        except LookupError:
            language = translation.get_language()
        with translation.override(language):
            return super().get(request, *args, **kwargs)


urlpatterns = [
    path("live/", views.stream_list, name="list"),
    path("live/jsi18n/", RoomCatalogue.as_view(), name="jsi18n"),
    path("live/manage/", views.manage, name="manage"),
    path("live/manage/schedule/", views.schedule, name="schedule"),
    path("live/manage/hosts/", views.hosts, name="hosts"),
    path("live/manage/hosts/<int:host_id>/verify/", views.verify_host, name="verify_host"),
    path("live/channels/<int:channel_id>/", views.channel_detail, name="channel"),
    path("live/channels/<int:channel_id>/follow/", views.follow, name="follow"),
    path("live/reports/<int:report_id>/handle/", views.handle_report, name="handle_report"),
    path("live/<int:stream_id>/", views.room, name="room"),
    path("live/<int:stream_id>/console/", views.console, name="console"),
    path("live/<int:stream_id>/record/", views.record, name="record"),
    path("live/<int:stream_id>/report/", views.report, name="report"),
    path("live/<int:stream_id>/<str:action>/", views.change_status, name="status"),
]
