"""Objects outside the caller's reach answer 404, as unknown ids do (docs/api.md); objects the caller may see
but not act on answer 403."""

from __future__ import annotations

import pytest

from zhunong.fulfilment.models import AfterSalesRequest, Complaint, Shipment
from zhunong.testing import make_user

from .conftest import paid_order
from .test_api import Api

pytestmark = pytest.mark.django_db


def test_fulfilment_objects_of_another_buyer_are_404(fw):
    order = paid_order(fw.buyer, [(fw.product, 2), (fw.product2, 1)])
    buyer = Api(fw.buyer)
    line = order.lines.get(product=fw.product)
    shipment = order.shipments.get(producer=fw.producer)
    other_shipment = order.shipments.get(producer=fw.producer2)
    req = buyer.post("/fulfilment/after-sales", {"order_line_id": line.pk, "kind": "refund_only", "reason": "late",
                                                 "evidence": "一周没发货", "amount": "1.00"})
    assert req.status_code == 201, req.content
    complaint = buyer.post("/fulfilment/complaints", {"order_id": order.pk, "category": "delivery", "text": "慢"})
    assert complaint.status_code == 201, complaint.content
    req_id, complaint_id = req.json()["id"], complaint.json()["id"]

    stranger = Api(make_user())
    for method, path, body, code in [
        ("get", f"/fulfilment/shipments/{shipment.pk}", None, "shipment_not_found"),
        ("post", f"/fulfilment/shipments/{shipment.pk}/pack", {}, "shipment_not_found"),
        ("post", f"/fulfilment/shipments/{shipment.pk}/ship", {"carrier": "sf", "tracking_number": "SF1234567890"},
         "shipment_not_found"),
        ("post", f"/fulfilment/shipments/{shipment.pk}/exception", {"reason": "x"}, "shipment_not_found"),
        ("post", f"/fulfilment/shipments/{shipment.pk}/confirm", {}, "shipment_not_found"),
        ("get", f"/fulfilment/orders/{order.pk}/shipments", None, "order_not_found"),
        ("post", f"/fulfilment/orders/{order.pk}/confirm-delivery", {}, "order_not_found"),
        ("post", "/fulfilment/after-sales", {"order_line_id": line.pk, "kind": "refund_only", "reason": "late",
                                             "evidence": "x", "amount": "1.00"}, "order_line_not_found"),
        ("post", f"/fulfilment/after-sales/{req_id}/approve", {}, "after_sales_not_found"),
        ("post", f"/fulfilment/after-sales/{req_id}/reject", {"note": "不行"}, "after_sales_not_found"),
        ("post", f"/fulfilment/after-sales/{req_id}/refund", {}, "after_sales_not_found"),
        ("post", "/fulfilment/complaints", {"order_id": order.pk, "category": "delivery", "text": "x"},
         "order_not_found"),
        ("post", f"/fulfilment/complaints/{complaint_id}/status", {"status": "resolved", "note": "x"},
         "complaint_not_found"),
        ("post", "/fulfilment/reviews", {"order_line_id": line.pk, "rating": 1, "text": "x"}, "order_line_not_found"),
    ]:
        r = stranger.get(path) if method == "get" else stranger.post(path, body)
        assert (r.status_code, r.json()["code"]) == (404, code), (path, r.content)
    # The other producer's manager: another producer's parcel is outside their reach; the after-sales request
    # of a line that is not theirs too.
    manager2 = Api(fw.manager2)
    r = manager2.get(f"/fulfilment/shipments/{shipment.pk}")
    assert (r.status_code, r.json()["code"]) == (404, "shipment_not_found")
    r = manager2.post(f"/fulfilment/after-sales/{req_id}/approve", {})
    assert (r.status_code, r.json()["code"]) == (404, "after_sales_not_found")
    # Who may see an object but not act on it still gets 403: the seller filing the buyer's complaint.
    r = Api(fw.manager2).post("/fulfilment/complaints", {"order_id": order.pk, "category": "delivery", "text": "x"})
    assert (r.status_code, r.json()["code"]) == (403, "not_your_order")
    assert Api(fw.manager2).get(f"/fulfilment/shipments/{other_shipment.pk}").status_code == 200
    # Nothing changed.
    assert set(Shipment.objects.filter(order=order).values_list("status", flat=True)) == {"pending"}
    assert AfterSalesRequest.objects.get().status == "requested" and Complaint.objects.get().status == "open"
