from django.apps import AppConfig


class BenchConfig(AppConfig):
    # Installed only so that `zhunong bench` is found; it has no models.
    name = "zhunong.bench"
    label = "bench"
    verbose_name = "Benchmarks"
