from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProducersConfig(AppConfig):
    name = "zhunong.producers"
    label = "producers"
    verbose_name = _("生产者、地块与采收批次")  # Producers, plots and harvest batches
