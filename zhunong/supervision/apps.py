from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "zhunong.supervision"
    label = "supervision"
    verbose_name = "Integrity supervision"
