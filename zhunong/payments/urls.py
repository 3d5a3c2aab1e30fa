from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    # The order page's pay button: a checkout session, then the gateway's page.
    path("orders/<int:order_id>/pay/", views.pay, name="pay"),
    # The sandbox gateway's hosted checkout (stands for the provider's own site).
    path("pay/sandbox/<str:session_ref>/", views.sandbox_pay, name="sandbox_pay"),
    path("pay/sandbox/<str:session_ref>/confirm/", views.sandbox_confirm, name="sandbox_confirm"),
    # Alipay: the way to its signed checkout, and its asynchronous notification.
    path("pay/alipay/<str:session_ref>/", views.alipay_pay, name="alipay_pay"),
    path("payments/alipay/notify/", views.alipay_notify, name="alipay_notify"),
]
