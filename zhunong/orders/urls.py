from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_list, name="list"),
    path("orders/buy/", views.buy, name="buy"),
    path("orders/<int:order_id>/", views.order_detail, name="detail"),
    path("orders/<int:order_id>/shipping-address/", views.shipping_address, name="shipping_address"),
    # orders/<id>/pay/ is payments' (payments:pay): starting to pay is a payment operation.
    path("orders/<int:order_id>/cancel/", views.cancel, name="cancel"),
    path("orders/streams/<int:stream_id>/flash-sale/", views.start_sale, name="start_sale"),
    path("orders/streams/<int:stream_id>/coupons/", views.release_coupon, name="release_coupon"),
    path("orders/sales/producers/<int:producer_id>/", views.producer_sales, name="producer_sales"),
]
