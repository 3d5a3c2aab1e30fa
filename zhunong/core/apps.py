from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zhunong.core"
    label = "core"
    verbose_name = "Core"
