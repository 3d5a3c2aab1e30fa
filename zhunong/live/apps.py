from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "zhunong.live"
    label = "live"
    verbose_name = "Live rooms"
