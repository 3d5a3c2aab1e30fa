from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "zhunong.supervision"
    label = "supervision"
    verbose_name = _("廉洁监督")  # Integrity supervision

    def ready(self) -> None:
        # Imported here: the handlers use the models, which exist only once the app registry is ready.
        from zhunong.core.integrity import concern_raised

        from .handlers import record_concern

        # Lower apps report concerns without importing supervision (the layers in pyproject.toml).
        concern_raised.connect(record_concern, dispatch_uid="supervision.record_concern")

        # After each stream: the detectors' scan (tasks.py), heard through live's transition records.
        from .tasks import connect as connect_post_stream_scan

        connect_post_stream_scan()
