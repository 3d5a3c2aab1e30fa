from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    # The sandbox gateway's hosted checkout (stands for the provider's own site).
    path("pay/sandbox/<str:session_ref>/", views.sandbox_pay, name="sandbox_pay"),
    path("pay/sandbox/<str:session_ref>/confirm/", views.sandbox_confirm, name="sandbox_confirm"),
]
