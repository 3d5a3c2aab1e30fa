from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "zhunong.fulfilment"
    label = "fulfilment"
    verbose_name = "Fulfilment and after-sales"

    def ready(self) -> None:
        from zhunong.orders.signals import order_transitioned

        from . import receivers  # noqa: F401 - connects orders' parcels_shipped question
        from .hooks import on_order_transitioned

        order_transitioned.connect(on_order_transitioned, dispatch_uid="zhunong.fulfilment.on_order_transitioned")
