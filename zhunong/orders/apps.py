from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "zhunong.orders"
    label = "orders"
    verbose_name = "Orders and flash sales"
