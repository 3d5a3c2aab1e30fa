import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.fulfilment.models import AfterSalesRequest, Complaint, PledgeClaim, Review, Shipment
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import complaints as complaint_services
from zhunong.fulfilment.services import pledges as pledge_services
from zhunong.fulfilment.services import reviews as review_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.testing import make_user

from .conftest import paid_order

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_packing_list_shows_only_own_lines(fw):
    paid_order(fw.buyer, [(fw.product, 2), (fw.product2, 1)])
    page = _client(fw.manager).get("/fulfilment/")
    assert page.status_code == 200
    html = page.content.decode()
    assert fw.product.name in html and fw.product2.name not in html
    # The list shows the address and the phone masked (138****5678).
    assert "王小明" in html and "山东省青岛市市南区香港中路 1 号" in html
    assert "138****5678" in html and "13812345678" not in html
    assert _client(fw.buyer).get("/fulfilment/").status_code == 403
    assert Client().get("/fulfilment/").status_code == 302  # to the login page


def test_ship_form_plain_and_htmx(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    client = _client(fw.manager)
    # htmx: a refused waybill comes back in the row, nothing changes
    r = client.post(f"/fulfilment/shipments/{shipment.pk}/ship/", {"carrier": "sf", "tracking_number": "1"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "bad_tracking_number" not in r.content.decode()
    assert f'id="shipment-{shipment.pk}"' in r.content.decode() and "notice error" in r.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == "pending"
    r = client.post(f"/fulfilment/shipments/{shipment.pk}/ship/", {"carrier": "sf", "tracking_number": "SF2020061800"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "SF2020061800" in r.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == "shipped"
    # another producer's manager is refused
    other = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    r = _client(fw.manager2).post(f"/fulfilment/shipments/{other.pk}/ship/",
                                  {"carrier": "sf", "tracking_number": "SF2020061801"})
    assert r.status_code == 403
    other.refresh_from_db()
    assert other.status == "pending"
    assert client.post("/fulfilment/shipments/99999999999999999999/ship/").status_code == 404
    assert client.post("/fulfilment/shipments/999999999/ship/").status_code == 404


def test_packing_slip_is_printable_with_the_full_address(fw):
    shipment = paid_order(fw.buyer, [(fw.product, 3)]).shipments.get()
    r = _client(fw.manager).get(f"/fulfilment/shipments/{shipment.pk}/slip/")
    html = r.content.decode()
    assert r.status_code == 200
    # The producer copies the recipient onto the courier's waybill: name, full phone, address.
    assert "@media print" in html and "王小明" in html and "13812345678" in html
    assert "山东省青岛市市南区香港中路 1 号" in html and "买家未填写收货地址" not in html
    assert fw.world.batch.trace_code in html and "洋河镇山里村蓝莓园冷库" in html
    assert _client(fw.manager2).get(f"/fulfilment/shipments/{shipment.pk}/slip/").status_code == 403


def test_slip_and_list_follow_the_buyers_address_change_before_shipping(fw):
    from zhunong.orders import addresses

    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    addresses.set_shipping_address(order=order, actor=fw.buyer, name="李四", phone="139 0000 4321",
                                   address="湖南省长沙市岳麓区麓山南路 2 号")
    client = _client(fw.manager)
    slip = client.get(f"/fulfilment/shipments/{shipment.pk}/slip/").content.decode()
    assert "李四" in slip and "13900004321" in slip and "麓山南路 2 号" in slip and "王小明" not in slip
    listing = client.get("/fulfilment/").content.decode()
    assert "李四" in listing and "139****4321" in listing and "13900004321" not in listing


def test_slip_and_list_say_when_the_buyer_gave_no_address(fw):
    from zhunong.orders import services as orders

    order = orders.create_order(buyer=fw.buyer, lines=[{"product_id": fw.product.pk, "quantity": 1}],
                                idempotency_key="no-address")
    orders.mark_paid(order=order, amount=order.total, payment_ref="pay-no-address")  # the API pays without one
    shipment = order.shipments.get()
    client = _client(fw.manager)
    assert "买家未填写收货地址" in client.get(f"/fulfilment/shipments/{shipment.pk}/slip/").content.decode()
    assert "买家未填写收货地址" in client.get("/fulfilment/").content.decode()


def test_buyer_after_sales_page_flow(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    shipment = order.shipments.get()
    client = _client(fw.buyer)
    assert client.get(f"/fulfilment/orders/{order.pk}/").status_code == 200
    assert _client(make_user()).get(f"/fulfilment/orders/{order.pk}/").status_code == 403
    shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="jd", tracking_number="JD0001234567")
    r = client.post(f"/fulfilment/shipments/{shipment.pk}/confirm/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "已签收" in r.content.decode()
    r = client.post(f"/fulfilment/lines/{line.pk}/review/", {"rating": "9", "text": "好"})
    assert r.status_code == 302 and not Review.objects.exists()
    r = client.post(f"/fulfilment/lines/{line.pk}/review/", {"rating": "5", "text": "好吃"}, follow=True)
    assert "谢谢你的评价" in r.content.decode() and Review.objects.get().rating == 5
    r = client.post(f"/fulfilment/lines/{line.pk}/after-sales/",
                    {"kind": "refund_only", "reason": "late", "evidence": "晚了一周才到", "amount": "2"})
    assert r.status_code == 302 and AfterSalesRequest.objects.get().reason == "late"
    r = client.post(f"/fulfilment/orders/{order.pk}/complaint/", {"category": "delivery", "text": "太慢"})
    assert Complaint.objects.count() == 1
    page = client.get(f"/fulfilment/orders/{order.pk}/").content.decode()
    assert "好吃" in page and "发货/送达太慢" in page


def test_producer_decides_after_sales_on_the_packing_page(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = after_sales_services.request_after_sales(actor=fw.buyer, line=order.lines.get(), kind="refund_only",
                                                   reason="damaged", evidence="压坏了", amount="5")
    assert "压坏了" in _client(fw.manager).get("/fulfilment/").content.decode()
    r = _client(fw.manager2).post(f"/fulfilment/after-sales/{req.pk}/decide/", {"decision": "approve"})
    req.refresh_from_db()
    assert r.status_code == 302 and req.status == "requested"
    _client(fw.manager).post(f"/fulfilment/after-sales/{req.pk}/decide/", {"decision": "reject", "note": ""})
    req.refresh_from_db()
    assert req.status == "requested"  # a rejection needs a reason
    _client(fw.manager).post(f"/fulfilment/after-sales/{req.pk}/decide/", {"decision": "approve", "note": "抱歉"})
    req.refresh_from_db()
    assert req.status == "refunded"


def test_operator_pages(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    Shipment.objects.filter(order=order).update(deadline=timezone.now() - dt.timedelta(hours=1))
    shipment_services.flag_late_shipments()
    complaint = complaint_services.file_complaint(actor=fw.buyer, order=order, category="delivery", text="三天没发货")
    stream = fw.world.live_room([fw.product]).stream
    pledge = pledge_services.create_pledge(actor=stream.host.user, stream=stream, terms="不甜包赔", max_per_claim="20",
                                           funded_by="host")
    claim = pledge_services.submit_claim(actor=fw.buyer, pledge=pledge,
                                         order=paid_order(fw.buyer, [(fw.product, 1)], stream=stream), amount="20",
                                         text="酸")
    op = _client(fw.operator)
    html = op.get("/fulfilment/complaints/").content.decode()
    assert "三天没发货" in html
    assert _client(fw.manager).get("/fulfilment/complaints/").status_code == 403
    op.post(f"/fulfilment/complaints/{complaint.pk}/status/", {"status": "resolved", "note": "已督促发货"})
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    html = op.get("/fulfilment/county/").content.decode()
    assert order.number in html and "不甜包赔" in html and fw.producer.name in html
    for action, extra in (("review", {}), ("uphold", {"reason": "抽检糖度不达标"}),
                          ("compensate", {"amount": "20", "reference": "WX-1"})):
        op.post(f"/fulfilment/pledge-claims/{claim.pk}/", {"action": action, **extra})
    claim.refresh_from_db()
    assert claim.status == "compensated"
    assert PledgeClaim.objects.get().compensation_ref == "WX-1"


def test_reviews_fragment_on_the_product_page(fw):
    """The storefront includes fulfilment/_reviews.html; the product page shows reviews once it does."""
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf", tracking_number="SF31415926")
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    review_services.create_review(actor=fw.buyer, line=order.lines.get(), rating=5, text="山里的味道")
    from django.template import Context, Template

    html = Template('{% include "fulfilment/_reviews.html" %}').render(Context({"product": fw.product}))
    assert "山里的味道" in html and "★★★★★" in html


def test_packing_list_finds_an_order_by_its_number(fw):
    # A buyer calls about ZN…: among pages of parcels the producer finds it by (a part of) its number.
    first = paid_order(fw.buyer, [(fw.product, 1)])
    second = paid_order(fw.buyer, [(fw.product, 2)])
    client = _client(fw.manager)
    found = client.get("/fulfilment/", {"q": second.number[-8:].lower()}).content.decode()
    assert second.number in found and first.number not in found
    assert f'value="{second.number[-8:]}"' in found  # the box keeps what was looked for
    none = client.get("/fulfilment/", {"q": "ZN-<不存在>"}).content.decode()
    assert first.number not in none and second.number not in none and "没有订单号含" in none
    everything = client.get("/fulfilment/").content.decode()
    assert first.number in everything and second.number in everything
