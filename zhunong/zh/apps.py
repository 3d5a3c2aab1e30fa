from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZhConfig(AppConfig):
    name = "zhunong.zh"
    label = "zh"
    verbose_name = _("中文文本")  # Chinese text
