from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "zhunong.quality"
    label = "quality"
    verbose_name = _("检测与溯源")  # Inspection and traceability

    def ready(self) -> None:
        # Imported here: models and services need the app registry, which is not ready at import time.
        from zhunong.producers.signals import batch_harvested

        from .services import on_batch_harvested

        batch_harvested.connect(on_batch_harvested, dispatch_uid="quality.on_batch_harvested")
