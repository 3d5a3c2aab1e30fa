from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "zhunong.orders"
    label = "orders"
    verbose_name = "Orders and flash sales"

    def ready(self) -> None:
        from .hotsales import connect_signals

        connect_signals()
