from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "zhunong.fulfilment"
    label = "fulfilment"
    verbose_name = _("发货与售后")  # Fulfilment and after-sales

    def ready(self) -> None:
        # Imported here: the receivers use the models, which exist only once the app registry is ready.
        # Importing them connects them to orders' signals.
        from zhunong.live.hooks import provide_held_streams

        from . import receivers  # noqa: F401
        from .selectors import streams_with_open_cases

        # Retention (live, video) keeps the records of a stream an open case is about.
        provide_held_streams("fulfilment", streams_with_open_cases)
        # live's host record page shows the sales, refunds and complaints of a host's streams.
        from zhunong.live.hooks import provide_host_figures

        from .hostfigures import figures_of_streams

        provide_host_figures("fulfilment", figures_of_streams)
        # History pages show reasons such as "after-sales #2: quality" or "order cancelled" with these labels.
        from zhunong.core.reasons import register_terms
        from zhunong.orders.models import OrderStatus

        from .models import AfterSalesReason

        register_terms(dict(AfterSalesReason.choices) | dict(OrderStatus.choices))
