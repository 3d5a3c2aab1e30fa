from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "zhunong.payments"
    label = "payments"
    verbose_name = "Payments"
