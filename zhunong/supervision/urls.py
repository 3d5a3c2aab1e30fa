"""The discipline-inspection office's pages, under /office/."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("office/", views.home, name="home"),
    path("office/flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("office/flags/<int:flag_id>/review/", views.review, name="review"),
    path("office/approvals/", views.approvals_page, name="approvals"),
    path("office/approvals/<int:stream_id>/", views.approve, name="approve"),
    path("office/streams/", views.streams_page, name="streams"),
    path("office/streams/<int:stream_id>/", views.stream_page, name="stream"),
    path("office/streams/<int:stream_id>/scan/", views.stream_scan, name="stream_scan"),
    path("office/hosts/<int:host_id>/", views.host_page, name="host"),
]
