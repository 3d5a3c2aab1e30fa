from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "zhunong.insights"
    label = "insights"
    verbose_name = "Data centre"

    def ready(self) -> None:
        # Imported here: the receivers use the models, which exist only once the app registry is ready.
        from zhunong.orders.signals import order_refunded, order_transitioned

        from . import rollups

        # The sales and income rollups follow every payment and refund, inside its transaction.
        order_transitioned.connect(rollups.on_order_transitioned, dispatch_uid="insights.rollups.transitioned")
        order_refunded.connect(rollups.on_order_refunded, dispatch_uid="insights.rollups.refunded")
