from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "zhunong.fulfilment"
    label = "fulfilment"
    verbose_name = "Fulfilment and after-sales"

    def ready(self) -> None:
        # Imported here: the receivers use the models, which exist only once the app registry is ready.
        # Importing them connects them to orders' signals.
        from . import receivers  # noqa: F401
