from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "zhunong.orders"
    label = "orders"
    verbose_name = "Orders and flash sales"

    def ready(self) -> None:
        # Imported here: these modules use models, which exist only once the app registry is ready.
        from .hotsales import connect_signals
        from .signals import flash_sale_scheduled
        from .tasks import schedule_sale_timers

        connect_signals()
        flash_sale_scheduled.connect(schedule_sale_timers, dispatch_uid="orders.sale_timers")
