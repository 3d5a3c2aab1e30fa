"""Live pages (mounted at the site root by zhunong/urls.py)."""

from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("live/", views.stream_list, name="list"),
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
