from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "zhunong.orders"
    label = "orders"
    verbose_name = _("订单与秒杀")  # Orders and flash sales

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
        # A visitor's cart (in the session) joins their database cart when they sign in.
        from django.contrib.auth.signals import user_logged_in

        from .services_cart import on_login

        user_logged_in.connect(on_login, dispatch_uid="orders.cart_merge_on_login")
