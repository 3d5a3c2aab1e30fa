from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "zhunong.video"
    label = "video"
    verbose_name = "Video ingest, recordings and replays"
