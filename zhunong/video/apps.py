from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "zhunong.video"
    label = "video"
    verbose_name = "Video ingest, recordings and replays"

    def ready(self) -> None:
        # Logging is configured by now: blank stream keys in anything the root handlers write.
        from .redact import install

        install()
