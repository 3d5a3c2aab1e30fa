from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "zhunong.quality"
    label = "quality"
    verbose_name = "Inspection and traceability"
