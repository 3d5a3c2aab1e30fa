from django.urls import path

from . import views, views_buy

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
    # cart, address book, coupon wallet, purchase sheet (views_buy.py)
    path("cart/", views_buy.cart_page, name="cart"),
    path("cart/add/", views_buy.cart_add, name="cart_add"),
    path("cart/checkout/", views_buy.cart_checkout, name="cart_checkout"),
    path("cart/<int:product_id>/", views_buy.cart_update, name="cart_update"),
    path("orders/addresses/", views_buy.address_book, name="addresses"),
    path("orders/addresses/<int:address_id>/", views_buy.address_edit, name="address_edit"),
    path("orders/addresses/<int:address_id>/delete/", views_buy.address_delete, name="address_delete"),
    path("orders/addresses/<int:address_id>/default/", views_buy.address_default, name="address_default"),
    path("orders/coupons/", views_buy.coupon_wallet, name="coupons"),
    path("orders/sheet/", views_buy.sheet, name="sheet"),
    path("orders/sheet/buy/", views_buy.sheet_buy, name="sheet_buy"),
    path("orders/sheet/orders/<int:order_id>/", views_buy.sheet_order, name="sheet_order"),
]
