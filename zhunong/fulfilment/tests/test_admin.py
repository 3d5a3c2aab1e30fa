import pytest
from django.test import Client

from zhunong.fulfilment.models import AfterSalesRequest, Shipment
from zhunong.testing import build_world

from .conftest import paid_order

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_are_scoped(fw):
    paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    own, other = Shipment.objects.get(producer=fw.producer), Shipment.objects.get(producer=fw.producer2)
    page = _client(fw.manager).get("/admin/fulfilment/shipment/")
    assert page.status_code == 200
    assert f"/admin/fulfilment/shipment/{own.pk}/change/" in page.content.decode()
    assert f"/admin/fulfilment/shipment/{other.pk}/change/" not in page.content.decode()
    assert _client(fw.manager).get(f"/admin/fulfilment/shipment/{other.pk}/change/").status_code == 302
    assert _client(fw.operator).get(f"/admin/fulfilment/shipment/{other.pk}/change/").status_code == 200
    stranger = build_world().operator
    assert f"/admin/fulfilment/shipment/{own.pk}/change/" not in _client(stranger).get(
        "/admin/fulfilment/shipment/").content.decode()
    for model in ("aftersalesrequest", "complaint", "review", "pledge", "pledgeclaim"):
        assert _client(fw.operator).get(f"/admin/fulfilment/{model}/").status_code == 200, model
    assert _client(fw.operator).get("/admin/fulfilment/shipment/add/").status_code == 403


def test_admin_action_calls_the_service(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    from zhunong.fulfilment.services import after_sales as after_sales_services

    req = after_sales_services.request_after_sales(actor=fw.buyer, line=order.lines.get(), kind="refund_only",
                                                   reason="wrong_item", evidence="发成了黑莓", amount="10")
    r = _client(fw.manager2).post("/admin/fulfilment/aftersalesrequest/",
                                  {"action": "approve_and_refund", "_selected_action": [req.pk]})
    req.refresh_from_db()
    assert req.status == "requested"  # not in manager2's list, so not acted upon
    r = _client(fw.manager).post("/admin/fulfilment/aftersalesrequest/",
                                 {"action": "approve_and_refund", "_selected_action": [req.pk]}, follow=True)
    assert r.status_code == 200
    assert AfterSalesRequest.objects.get(pk=req.pk).status == "refunded"
