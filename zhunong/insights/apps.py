from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "zhunong.insights"
    label = "insights"
    verbose_name = "Data centre"
