from django.apps import AppConfig


class ProducersConfig(AppConfig):
    name = "zhunong.producers"
    label = "producers"
    verbose_name = "Producers, plots and harvest batches"
