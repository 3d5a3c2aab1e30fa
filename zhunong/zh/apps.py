from django.apps import AppConfig


class ZhConfig(AppConfig):
    name = "zhunong.zh"
    label = "zh"
    verbose_name = "Chinese text"
