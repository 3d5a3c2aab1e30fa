"""Video pages, the media server's callbacks (/video/rtmp/...) and replays (/replays/)."""

from django.urls import path

from . import views

app_name = "video"

urlpatterns = [
    path("video/rtmp/<slug:event>", views.rtmp_callback, name="rtmp_callback"),
    path("video/ingests/", views.ingests, name="ingests"),
    path("video/streams/<int:stream_id>/panel/", views.ingest_panel, name="ingest_panel"),
    path("video/streams/<int:stream_id>/key/rotate/", views.rotate_key, name="rotate_key"),
    path("replays/", views.replay_list, name="replays"),
    path("replays/<int:replay_id>/", views.replay_detail, name="replay"),
]
