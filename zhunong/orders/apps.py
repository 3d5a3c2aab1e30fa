from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "zhunong.orders"
    label = "orders"
    verbose_name = "Orders and flash sales"

    def ready(self) -> None:
        # Imported here: these modules use models, which exist only once the app registry is ready.
        from django.db.models.signals import post_save

        from zhunong.live.models import Stream

        from .flashsales import on_stream_saved
        from .hotsales import connect_signals
        from .signals import flash_sale_scheduled
        from .tasks import schedule_sale_timers

        connect_signals()
        # A stream that ends takes its flash sales with it (no flash price after the end).
        post_save.connect(on_stream_saved, sender=Stream, dispatch_uid="orders.sales_end_with_stream")
        flash_sale_scheduled.connect(schedule_sale_timers, dispatch_uid="orders.sale_timers")
