"""Fulfilment and after-sales pages, all under /fulfilment/."""

from django.urls import path, register_converter

from . import views


class _IdConverter:
    """Database ids: at most 18 digits, so an absurd number is a 404 and never reaches the database
    driver (a 20-digit id overflows SQLite and PostgreSQL bigint alike)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(_IdConverter, "fulfilment_id")

app_name = "fulfilment"

urlpatterns = [
    path("fulfilment/", views.packing_list, name="packing_list"),
    path("fulfilment/shipments/<fulfilment_id:shipment_id>/ship/", views.ship, name="ship"),
    path("fulfilment/shipments/<fulfilment_id:shipment_id>/pack/", views.pack, name="pack"),
    path("fulfilment/shipments/<fulfilment_id:shipment_id>/exception/", views.report_exception, name="exception"),
    path("fulfilment/shipments/<fulfilment_id:shipment_id>/slip/", views.slip, name="slip"),
    path("fulfilment/shipments/<fulfilment_id:shipment_id>/confirm/", views.confirm_shipment, name="confirm_shipment"),
    path("fulfilment/after-sales/<fulfilment_id:request_id>/decide/", views.decide_after_sales, name="decide"),
    path("fulfilment/after-sales/photos/<fulfilment_id:photo_id>/<str:size>/", views.after_sales_photo,
         name="after_sales_photo"),
    path("fulfilment/orders/<fulfilment_id:order_id>/", views.order_aftersales, name="order"),
    path("fulfilment/orders/<fulfilment_id:order_id>/confirm/", views.confirm_order, name="confirm_order"),
    path("fulfilment/orders/<fulfilment_id:order_id>/complaint/", views.complain, name="complain"),
    path("fulfilment/lines/<fulfilment_id:line_id>/after-sales/", views.request_after_sales, name="after_sales"),
    path("fulfilment/lines/<fulfilment_id:line_id>/review/", views.review, name="review"),
    path("fulfilment/pledges/<fulfilment_id:pledge_id>/claim/", views.claim, name="claim"),
    path("fulfilment/complaints/", views.complaints, name="complaints"),
    path("fulfilment/complaints/<fulfilment_id:complaint_id>/status/", views.complaint_status, name="complaint_status"),
    path("fulfilment/county/", views.county, name="county"),
    path("fulfilment/pledge-claims/<fulfilment_id:claim_id>/", views.claim_action, name="claim_action"),
]
