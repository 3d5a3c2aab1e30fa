"""Live pages (mounted at the site root by zhunong/urls.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import translation
from django.views.i18n import JavaScriptCatalog

from . import views, views_hosts

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
    path("live/manage/hosts/<int:host_id>/identity/", views_hosts.host_identity, name="host_identity"),
    path("live/manage/hosts/<int:host_id>/id-number/", views_hosts.reveal_id_number, name="reveal_id_number"),
    path("live/manage/training/", views_hosts.training_list, name="training"),
    path("live/manage/training/<int:course_id>/", views_hosts.course_detail, name="course"),
    path("live/manage/training/<int:course_id>/certificates/", views_hosts.issue_certificate, name="certificate"),
    path("live/manage/training/sessions/<int:session_id>/attendance/", views_hosts.record_attendance,
         name="attendance"),
    path("live/hosts/<int:host_id>/record/", views_hosts.host_record, name="host_record"),
    path("live/<int:stream_id>/thirds/", views_hosts.mark_thirds, name="thirds"),
    path("live/channels/<int:channel_id>/", views.channel_detail, name="channel"),
    path("live/channels/<int:channel_id>/follow/", views.follow, name="follow"),
    path("live/reports/<int:report_id>/handle/", views.handle_report, name="handle_report"),
    path("live/<int:stream_id>/", views.room, name="room"),
    path("live/<int:stream_id>/console/", views.console, name="console"),
    path("live/<int:stream_id>/record/", views.record, name="record"),
    path("live/<int:stream_id>/report/", views.report, name="report"),
    path("live/<int:stream_id>/<str:action>/", views.change_status, name="status"),
]
