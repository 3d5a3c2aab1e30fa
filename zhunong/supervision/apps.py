from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "zhunong.supervision"
    label = "supervision"
    verbose_name = _("廉洁监督")  # Integrity supervision
