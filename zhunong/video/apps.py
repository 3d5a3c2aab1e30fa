from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideoConfig(AppConfig):
    name = "zhunong.video"
    label = "video"
    verbose_name = _("推流、录像与回放")  # Video ingest, recordings and replays

    def ready(self) -> None:
        # Imported here, not at the top: redact and tasks import models, which need the app registry.
        from django.core import checks as django_checks

        from . import checks, signals, tasks
        from .redact import install

        # Logging is configured by now: blank stream keys in anything the root handlers write.
        install()
        django_checks.register(checks.check_media_paths, "video")
        django_checks.register(checks.check_retention, "video")
        # The services announce a reconnect grace period or a pending replay; the Huey jobs follow up.
        signals.reconnect_grace_started.connect(tasks.schedule_grace_expiry, dispatch_uid="video.grace_expiry")
        signals.replay_queued.connect(tasks.schedule_replay, dispatch_uid="video.build_replay")
