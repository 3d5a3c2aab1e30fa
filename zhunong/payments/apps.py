from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "zhunong.payments"
    label = "payments"
    verbose_name = _("支付")  # Payments

    def ready(self) -> None:
        # Imported here: these modules use models, which exist only once the app registry is ready.
        from zhunong.orders.signals import order_refunded, order_transitioned

        from . import checks, receivers, tasks  # noqa: F401 - checks registers the provider check
        from .signals import webhook_queued

        order_transitioned.connect(receivers.order_transitioned, dispatch_uid="payments.order_transitioned")
        order_refunded.connect(receivers.order_refunded, dispatch_uid="payments.order_refunded")
        webhook_queued.connect(tasks.schedule_delivery, dispatch_uid="payments.webhook_queued")
