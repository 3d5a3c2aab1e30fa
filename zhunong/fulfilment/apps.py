from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "zhunong.fulfilment"
    label = "fulfilment"
    verbose_name = "Fulfilment and after-sales"
