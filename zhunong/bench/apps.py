from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenchConfig(AppConfig):
    # Installed only so that `zhunong bench` is found; it has no models.
    name = "zhunong.bench"
    label = "bench"
    verbose_name = _("性能测试")  # Benchmarks
