"""Pages of the notifications app."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.centre, name="centre"),
    path("notifications/<int:notification_id>/read/", views.read, name="read"),
    path("notifications/read-all/", views.read_all, name="read_all"),
    path("notifications/settings/", views.settings_page, name="settings"),
    path("following/", views.following, name="following"),
    path("following/hosts/<int:host_id>/", views.follow_host, name="follow_host"),
    path("following/streams/<int:stream_id>/", views.follow_stream, name="follow_stream"),
    path("following/streams/<int:stream_id>/book/", views.book_stream, name="book_stream"),
    path("following/bookings/", views.bookings, name="bookings"),
]
