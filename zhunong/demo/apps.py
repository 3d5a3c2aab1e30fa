from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    # Installed only so that `zhunong seed_demo` and `zhunong serve` are found; it has no models.
    name = "zhunong.demo"
    label = "demo"
    verbose_name = _("演示")  # Demo
