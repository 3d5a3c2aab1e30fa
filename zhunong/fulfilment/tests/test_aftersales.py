from decimal import Decimal

import pytest

from zhunong.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.fulfilment import selectors
from zhunong.fulfilment.errors import (
    AfterSalesNotAllowed,
    AfterSalesOpen,
    ComplaintLimit,
)
from zhunong.fulfilment.models import AfterSalesRequest, Complaint, ShipmentStatus
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import complaints as complaint_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.services.after_sales import AFTER_SALES
from zhunong.fulfilment.services.complaints import COMPLAINT
from zhunong.orders import services as orders
from zhunong.orders.errors import NotYourOrder, RefundExceedsPaid
from zhunong.orders.models import OrderStatus
from zhunong.testing import build_world, make_user

from .conftest import paid_order

pytestmark = pytest.mark.django_db


def _request(fw, line, **kwargs):  # noqa: ANN001, ANN003, ANN202
    values = {"kind": "refund_only", "reason": "quality", "evidence": "蓝莓有一半是软烂的"}
    values.update(kwargs)
    return after_sales_services.request_after_sales(actor=fw.buyer, line=line, **values)


def test_tables_have_terminal_states():
    assert AFTER_SALES.allowed("refunded") == frozenset() and AFTER_SALES.allowed("rejected") == frozenset()
    assert not AFTER_SALES.can("requested", "refunded")  # approval first
    assert COMPLAINT.allowed("resolved") == frozenset()


def test_request_approve_and_refund_a_line(fw):
    order = paid_order(fw.buyer, [(fw.product, 2), (fw.product2, 1)])
    line = order.lines.get(product=fw.product)
    req = _request(fw, line, amount="10.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED
    assert req.producer == fw.producer and req.amount == Decimal("10.00")
    # the other producer's manager cannot decide it
    with pytest.raises(PermissionDenied):
        after_sales_services.approve_after_sales(actor=fw.manager2, request=req)
    req.refresh_from_db()
    assert req.status == "requested"
    after_sales_services.approve_after_sales(actor=fw.manager, request=req, note="同意退款")
    req.refresh_from_db()
    line.refresh_from_db()
    order.refresh_from_db()
    assert req.status == "refunded" and req.decided_by == fw.manager and req.refunded_at
    assert list(req.history.values_list("to_status", flat=True)) == ["requested", "approved", "refunded"]
    assert line.refunded_amount == Decimal("10.00")
    assert order.status == OrderStatus.PAID  # a partial refund puts the order back where it was
    assert order.refunded_total == Decimal("10.00")


def test_amount_above_what_is_left_is_refused_and_changes_nothing(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    for amount in ("39.91", "1000"):
        with pytest.raises(RefundExceedsPaid) as exc:
            _request(fw, line, amount=amount)
        assert exc.value.details["refundable"] == "39.90"
    for amount in ("-1", "0", "abc", "NaN", "1.001", "1e400"):
        with pytest.raises(ValidationFailed) as exc:
            _request(fw, line, amount=amount)
        assert exc.value.code in ("invalid", "refund_exceeds_paid")
    assert not AfterSalesRequest.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_refund_more_than_paid_is_refused_by_orders(fw):
    """The request was fine when made; the line was refunded meanwhile (directly through orders), so the
    approval's refund exceeds what is left: orders refuses and nothing changes."""
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    req = _request(fw, line)  # the whole line: 39.90
    assert req.amount == line.paid_amount
    orders.refund(order=order, actor=fw.operator, amounts={line.pk: Decimal("5.00")}, reason="运费补偿")
    with pytest.raises(DomainError) as exc:
        after_sales_services.approve_after_sales(actor=fw.manager, request=req)
    assert exc.value.code == "refund_exceeds_paid"
    req.refresh_from_db()
    line.refresh_from_db()
    assert req.status == "requested"  # the approval rolled back with the refused refund
    assert line.refunded_amount == Decimal("5.00")


def test_reject_puts_the_order_back(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="zto", tracking_number="ZT20200618")
    req = _request(fw, order.lines.get(), reason="late")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED
    with pytest.raises(ValidationFailed):
        after_sales_services.reject_after_sales(actor=fw.manager, request=req, note="")
    after_sales_services.reject_after_sales(actor=fw.manager, request=req, note="已按时发货，物流延误请联系快递")
    order.refresh_from_db()
    req.refresh_from_db()
    assert req.status == "rejected" and order.status == OrderStatus.SHIPPED
    with pytest.raises(InvalidTransition):
        after_sales_services.approve_after_sales(actor=fw.manager, request=req)


def test_one_open_request_per_line_but_several_lines_at_once(fw):
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    a, b = order.lines.get(product=fw.product), order.lines.get(product=fw.product2)
    first = _request(fw, a)
    with pytest.raises(AfterSalesOpen):
        _request(fw, a, reason="damaged")
    second = _request(fw, b, reason="over_packaged", evidence="一盒茶叶用了三层泡沫箱")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED
    after_sales_services.reject_after_sales(actor=fw.manager, request=first, note="照片显示完好")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED  # b is still open
    after_sales_services.approve_after_sales(actor=fw.manager2, request=second)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    # b's parcel has nothing left to send
    assert order.shipments.get(producer=fw.producer2).status == ShipmentStatus.CANCELLED
    assert order.shipments.get(producer=fw.producer).status == ShipmentStatus.PENDING


def test_full_refund_cancels_the_unsent_parcel(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = _request(fw, order.lines.get())
    after_sales_services.approve_after_sales(actor=fw.operator, request=req)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.shipments.get().status == ShipmentStatus.CANCELLED


def test_only_the_buyer_asks_and_bad_input_is_refused(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    with pytest.raises(NotYourOrder):
        after_sales_services.request_after_sales(actor=make_user(), line=line, kind="refund_only", reason="quality",
                                                 evidence="x")
    with pytest.raises(ValidationFailed):
        _request(fw, line, kind="exchange")
    with pytest.raises(ValidationFailed):
        _request(fw, line, reason="changed_my_mind")
    with pytest.raises(ValidationFailed):
        _request(fw, line, evidence="")
    with pytest.raises(ValidationFailed):
        _request(fw, line, evidence="x" * 1001)
    with pytest.raises(AfterSalesNotAllowed):
        _request(fw, line, kind="return_refund")  # nothing shipped yet, nothing to return
    assert not AfterSalesRequest.objects.exists()


def test_unpaid_order_has_no_after_sales(fw):
    from .conftest import place_order

    order = place_order(fw.buyer, [(fw.product, 1)])
    with pytest.raises(AfterSalesNotAllowed):
        _request(fw, order.lines.get())


def test_after_sales_lists_are_scoped(fw):
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    _request(fw, order.lines.get(product=fw.product))
    assert selectors.open_after_sales_for(fw.manager).count() == 1
    assert selectors.open_after_sales_for(fw.manager2).count() == 0
    assert selectors.open_after_sales_for(fw.operator).count() == 1
    other = build_world()
    assert selectors.open_after_sales_for(other.operator).count() == 0


# ---------------------------------------------------------------- complaints


def test_complaint_goes_to_the_producers_county(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    complaint = complaint_services.file_complaint(actor=fw.buyer, order=order, category="delivery",
                                                  text="下单五天了还没发货，客服也联系不上")
    assert complaint.region == fw.world.county and complaint.producer == fw.producer
    assert list(selectors.open_complaints_for(fw.operator)) == [complaint]
    other = build_world()
    assert selectors.complaints_for(other.operator).count() == 0
    with pytest.raises(PermissionDenied):
        complaint_services.update_complaint(actor=other.operator, complaint=complaint, status="in_progress")
    with pytest.raises(PermissionDenied):
        complaint_services.update_complaint(actor=fw.manager, complaint=complaint, status="resolved", note="x")
    complaint_services.update_complaint(actor=fw.operator, complaint=complaint, status="in_progress")
    with pytest.raises(ValidationFailed):
        complaint_services.update_complaint(actor=fw.operator, complaint=complaint, status="resolved", note="")
    complaint_services.update_complaint(actor=fw.operator, complaint=complaint, status="resolved",
                                        note="已督促生产者当日发货并补偿运费")
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.handled_by == fw.operator
    assert list(complaint.history.values_list("to_status", flat=True)) == ["open", "in_progress", "resolved"]
    with pytest.raises(InvalidTransition):
        complaint_services.update_complaint(actor=fw.operator, complaint=complaint, status="open")


def test_complaint_bad_input(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    other_order = paid_order(fw.buyer, [(fw.product2, 1)])
    with pytest.raises(NotYourOrder):
        complaint_services.file_complaint(actor=fw.manager, order=order, category="quality", text="x")
    with pytest.raises(ValidationFailed):
        complaint_services.file_complaint(actor=fw.buyer, order=order, category="weather", text="x")
    with pytest.raises(ValidationFailed):
        complaint_services.file_complaint(actor=fw.buyer, order=order, category="quality", text="\u202eabc")
    with pytest.raises(ValidationFailed):
        complaint_services.file_complaint(actor=fw.buyer, order=order, category="quality", text="x",
                                          line=other_order.lines.get())
    assert not Complaint.objects.exists()
    for _ in range(complaint_services.MAX_OPEN_COMPLAINTS_PER_ORDER):
        complaint_services.file_complaint(actor=fw.buyer, order=order, category="quality", text="坏果")
    with pytest.raises(ComplaintLimit):
        complaint_services.file_complaint(actor=fw.buyer, order=order, category="quality", text="坏果")


def test_parcel_shipped_during_a_request_moves_the_order_once_the_request_is_refused(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = _request(fw, order.lines.get(), reason="late", evidence="两天了还没发")
    shipment_services.ship_shipment(actor=fw.manager, shipment=order.shipments.get(), carrier="sf",
                                    tracking_number="SF66668888")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED
    after_sales_services.reject_after_sales(actor=fw.manager, request=req, note="已发出，请留意物流")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_a_producer_rejects_a_request_on_a_two_producer_order(fw):
    """The order goes back to `paid` when the producer of the disputed line refuses; before, orders let
    only someone over both producers move a multi-producer order out of refund_requested."""
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    line = order.lines.get(product=fw.product)
    req = _request(fw, line, amount="10.00")
    with pytest.raises(PermissionDenied):
        after_sales_services.reject_after_sales(actor=fw.manager2, request=req, note="不是我家的货")
    after_sales_services.reject_after_sales(actor=fw.manager, request=req, note="照片显示完好")
    order.refresh_from_db()
    req.refresh_from_db()
    assert req.status == "rejected" and order.status == OrderStatus.PAID
    assert order.history.last().actor == fw.manager
