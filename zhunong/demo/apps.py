from django.apps import AppConfig


class DemoConfig(AppConfig):
    # Installed only so that `zhunong seed_demo` and `zhunong serve` are found; it has no models.
    name = "zhunong.demo"
    label = "demo"
    verbose_name = "Demo"
