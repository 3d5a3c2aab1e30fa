import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from zhunong.core.errors import InvalidTransition, ValidationFailed
from zhunong.fulfilment import selectors
from zhunong.fulfilment.errors import (
    BadTrackingNumber,
    NothingToConfirm,
    NotYourShipment,
    OrderNotPaid,
    TrackingNumberInUse,
    UnknownCarrier,
)
from zhunong.fulfilment.models import Shipment, ShipmentStatus
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.services import sweep as sweep_services
from zhunong.fulfilment.services.shipments import SHIPMENT
from zhunong.orders.errors import NotYourOrder
from zhunong.orders.models import OrderStatus
from zhunong.testing import make_user

from .conftest import paid_order, place_order

pytestmark = pytest.mark.django_db
S = ShipmentStatus


def _ship(fw, shipment, number="SF1234567890"):  # noqa: ANN001, ANN202
    manager = fw.manager if shipment.producer_id == fw.producer.pk else fw.manager2
    return shipment_services.ship_shipment(actor=manager, shipment=shipment, carrier="sf", tracking_number=number)


def test_transition_table_shape():
    assert SHIPMENT.states == set(S.values)
    assert SHIPMENT.allowed(S.DELIVERED) == frozenset() and SHIPMENT.allowed(S.CANCELLED) == frozenset()
    # every non-terminal state can still reach delivered or cancelled
    for state in SHIPMENT.states - {S.DELIVERED, S.CANCELLED}:
        seen, todo = set(), [state]
        while todo:
            s = todo.pop()
            seen.add(s)
            todo.extend(SHIPMENT.allowed(s) - seen)
        assert seen & {S.DELIVERED, S.CANCELLED}, state
    assert not SHIPMENT.can(S.PENDING, S.DELIVERED)
    assert not SHIPMENT.can(S.SHIPPED, S.PENDING)


def test_paid_order_is_routed_one_shipment_per_producer(fw):
    order = paid_order(fw.buyer, [(fw.product, 2), (fw.product2, 1)])
    shipments = {s.producer_id: s for s in order.shipments.all()}
    assert set(shipments) == {fw.producer.pk, fw.producer2.pk}
    first = shipments[fw.producer.pk]
    assert first.status == S.PENDING
    assert first.ship_from == "洋河镇山里村蓝莓园冷库"
    assert [(i.line.product_id, i.quantity) for i in first.items.all()] == [(fw.product.pk, 2)]
    assert first.deadline == order.paid_at + dt.timedelta(hours=48)
    # idempotent: routing again adds nothing
    shipment_services.route_order(order=order)
    assert Shipment.objects.filter(order=order).count() == 2
    assert sum(s.items.count() for s in order.shipments.all()) == 2


def test_unpaid_order_is_not_routed(fw):
    order = place_order(fw.buyer, [(fw.product, 1)])
    with pytest.raises(OrderNotPaid):
        shipment_services.route_order(order=order)
    assert not Shipment.objects.filter(order=order).exists()


def test_producer_manager_sees_only_their_own_lines(fw):
    paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    paid_order(fw.buyer, [(fw.product2, 3)])
    mine = list(selectors.packing_list(fw.manager))
    assert {s.producer_id for s in mine} == {fw.producer.pk} and len(mine) == 1
    theirs = list(selectors.packing_list(fw.manager2))
    assert {s.producer_id for s in theirs} == {fw.producer2.pk} and len(theirs) == 2
    # the county operator sees all of the county; a buyer sees none
    assert selectors.packing_list(fw.operator).count() == 3
    assert selectors.packing_list(fw.buyer).count() == 0


def test_coop_manager_handles_member_households(fw):
    fw.producer2.members.add(fw.producer)
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    assert shipment in selectors.packing_list(fw.manager2)
    shipment_services.ship_shipment(actor=fw.manager2, shipment=shipment, carrier="ems", tracking_number="EMS0001234")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_another_producers_shipment_is_refused_and_unchanged(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    for intruder in (fw.manager2, fw.buyer, make_user("regulator", region=fw.world.county)):
        with pytest.raises(NotYourShipment):
            shipment_services.ship_shipment(actor=intruder, shipment=shipment, carrier="sf", tracking_number="SF99999999")
        with pytest.raises(NotYourShipment):
            shipment_services.pack_shipment(actor=intruder, shipment=shipment)
    shipment.refresh_from_db()
    assert shipment.status == S.PENDING and shipment.tracking_number == ""
    assert shipment.history.count() == 1


def test_ship_records_history_and_moves_order_when_all_parcels_left(fw):
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 2)])
    first = order.shipments.get(producer=fw.producer)
    second = order.shipments.get(producer=fw.producer2)
    shipment_services.pack_shipment(actor=fw.manager, shipment=first)
    _ship(fw, first, "sf12345678")
    first.refresh_from_db()
    assert first.status == S.SHIPPED and first.tracking_number == "SF12345678" and first.shipped_at
    assert list(first.history.values_list("from_status", "to_status")) == [
        ("pending", "pending"), ("pending", "packed"), ("packed", "shipped")]
    assert first.history.last().actor == fw.manager
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # one parcel still to go
    _ship(fw, second, "SF87654321")  # straight from pending: packed on the way
    assert list(second.history.values_list("to_status", flat=True)) == ["pending", "packed", "shipped"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.history.last().to_status == "shipped"


@pytest.mark.parametrize(("carrier", "number", "error"), [
    ("sf", "", BadTrackingNumber),
    ("sf", "12345", BadTrackingNumber),
    ("sf", "SF 123 456", BadTrackingNumber),
    ("sf", "SF123456\x00", BadTrackingNumber),
    ("sf", "x" * 41, BadTrackingNumber),
    ("dhl", "SF12345678", UnknownCarrier),
    ("", "SF12345678", UnknownCarrier),
])
def test_bad_tracking_input_changes_nothing(fw, carrier, number, error):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    with pytest.raises(error) as exc:
        shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier=carrier, tracking_number=number)
    assert exc.value.status == 422
    shipment.refresh_from_db()
    assert shipment.status == S.PENDING and shipment.history.count() == 1


def test_a_waybill_number_belongs_to_one_parcel(fw):
    a = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    b = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    _ship(fw, a, "YT1000000001")
    with pytest.raises(TrackingNumberInUse):
        _ship(fw, b, "yt1000000001")
    b.refresh_from_db()
    assert b.status == S.PENDING
    # the same number with another courier is a different waybill
    shipment_services.ship_shipment(actor=fw.manager, shipment=b, carrier="yto", tracking_number="YT1000000001")


def test_cannot_ship_twice_or_pack_a_shipped_parcel(fw):
    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    _ship(fw, shipment)
    with pytest.raises(InvalidTransition):
        _ship(fw, shipment, "SF00000002")
    with pytest.raises(InvalidTransition):
        shipment_services.pack_shipment(actor=fw.manager, shipment=shipment)


def test_exception_and_resend(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    _ship(fw, shipment, "ZT11112222")
    shipment_services.report_exception(actor=fw.manager, shipment=shipment, reason="快递丢件")
    shipment.refresh_from_db()
    assert shipment.status == S.EXCEPTION and shipment.exception_reason == "快递丢件"
    with pytest.raises(ValidationFailed):
        shipment_services.report_exception(actor=fw.manager, shipment=shipment, reason="   ")
    shipment_services.resolve_exception(actor=fw.manager, shipment=shipment, resume="pending", reason="补发")
    shipment.refresh_from_db()
    assert shipment.status == S.PENDING and shipment.tracking_number == ""
    _ship(fw, shipment, "ZT33334444")
    assert list(shipment.history.values_list("to_status", flat=True)) == [
        "pending", "packed", "shipped", "exception", "pending", "packed", "shipped"]


def test_late_shipments_are_flagged_once_and_count_toward_the_record(fw):
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    late_one = order.shipments.get(producer=fw.producer)
    on_time = order.shipments.get(producer=fw.producer2)
    _ship(fw, on_time)
    assert shipment_services.flag_late_shipments() == []
    later = late_one.deadline + dt.timedelta(minutes=1)
    assert shipment_services.flag_late_shipments(now=later) == [late_one.pk]
    assert shipment_services.flag_late_shipments(now=later + dt.timedelta(hours=1)) == []
    late_one.refresh_from_db()
    assert late_one.late and late_one.late_flagged_at == later
    on_time.refresh_from_db()
    assert not on_time.late
    records = {r.producer_id: r for r in selectors.producer_records(fw.operator)}
    assert (records[fw.producer.pk].shipments, records[fw.producer.pk].late) == (1, 1)
    assert records[fw.producer.pk].late_rate == 100
    assert records[fw.producer2.pk].late == 0
    assert list(selectors.late_shipments(fw.operator)) == [late_one]
    assert list(selectors.late_shipments(fw.manager2)) == []


def test_shipping_after_the_deadline_marks_late_even_without_the_sweep(fw):
    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    Shipment.objects.filter(pk=shipment.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    _ship(fw, shipment)
    shipment.refresh_from_db()
    assert shipment.late and shipment.status == S.SHIPPED


@override_settings(FULFILMENT_SHIP_WITHIN_HOURS=2)
def test_deadline_comes_from_settings(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    assert order.shipments.get().deadline == order.paid_at + dt.timedelta(hours=2)


def test_sweep_command_dry_run_changes_nothing(fw):
    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    Shipment.objects.filter(pk=shipment.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    out = StringIO()
    call_command("fulfilment_sweep", "--dry-run", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["dry_run"] is True and result["to_flag_late"] == [shipment.pk]
    shipment.refresh_from_db()
    assert not shipment.late
    out = StringIO()
    call_command("fulfilment_sweep", "--json", stdout=out)
    assert json.loads(out.getvalue())["flagged_late"] == [shipment.pk]
    shipment.refresh_from_db()
    assert shipment.late


def test_buyer_confirms_delivery_and_order_is_delivered(fw):
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    a, b = order.shipments.get(producer=fw.producer), order.shipments.get(producer=fw.producer2)
    with pytest.raises(NothingToConfirm):
        shipment_services.confirm_order_delivery(actor=fw.buyer, order=order)
    _ship(fw, a, "SF10000001")
    with pytest.raises(NotYourOrder):
        shipment_services.confirm_delivery(actor=make_user(), shipment=a)
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=a)
    a.refresh_from_db()
    assert a.status == S.DELIVERED and a.delivery_confirmation == "buyer"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # b has not even left yet
    _ship(fw, b, "SF10000002")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment_services.confirm_order_delivery(actor=fw.buyer, order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.history.last().actor == fw.buyer
    with pytest.raises(NothingToConfirm):
        shipment_services.confirm_delivery(actor=fw.buyer, shipment=b)


def test_auto_confirmation_and_completion(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    _ship(fw, shipment)
    shipment.refresh_from_db()
    shipped_at = shipment.shipped_at
    assert shipment_services.auto_confirm_deliveries(now=shipped_at + dt.timedelta(days=9)) == []
    assert shipment_services.auto_confirm_deliveries(now=shipped_at + dt.timedelta(days=10, seconds=1)) == [shipment.pk]
    shipment.refresh_from_db()
    assert shipment.status == S.DELIVERED and shipment.delivery_confirmation == "auto"
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    delivered_at = shipment.delivered_at
    assert shipment_services.complete_delivered_orders(now=delivered_at + dt.timedelta(days=6)) == []
    assert shipment_services.complete_delivered_orders(now=delivered_at + dt.timedelta(days=7, seconds=1)) == [order.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@override_settings(FULFILMENT_AUTO_CONFIRM_DAYS=3)
def test_auto_confirm_days_come_from_settings(fw):
    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    _ship(fw, shipment)
    shipment.refresh_from_db()
    assert shipment_services.auto_confirm_deliveries(now=shipment.shipped_at + dt.timedelta(days=3, seconds=1))


def test_open_after_sales_request_holds_completion(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    _ship(fw, shipment)
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    line = order.lines.get()
    after_sales_services.request_after_sales(actor=fw.buyer, line=line, kind="refund_only", reason="over_packaged",
                                             evidence="包装太大，一盒蓝莓装了一个大纸箱", amount="5.00")
    shipment.refresh_from_db()
    assert shipment_services.complete_delivered_orders(now=shipment.delivered_at + dt.timedelta(days=30)) == []


def test_cancelled_order_cancels_unsent_parcels(fw):
    from zhunong.orders import services as orders

    order = paid_order(fw.buyer, [(fw.product, 1)])
    orders.cancel_order(order=order, actor=fw.operator, reason="缺货")
    shipment = order.shipments.get()
    assert shipment.status == S.CANCELLED
    assert shipment.history.last().reason == "order cancelled"


def test_sweep_catches_up_an_order_the_hook_missed(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    Shipment.objects.filter(order=order).delete()
    result = sweep_services.sweep()
    assert result.routed == 1 and not result.errors
    assert order.shipments.count() == 1


def test_shipping_records_a_trace_event_per_batch(fw):
    from zhunong.quality.models import TraceEvent

    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    _ship(fw, shipment)
    events = TraceEvent.objects.filter(batch=fw.world.batch, biz_step="shipping")
    assert events.count() == 1
    assert events.get().payload.get("carrier") == "顺丰速运"
    shipment_services._record_trace(shipment)  # keyed by the shipment: a repeat records nothing new
    assert events.count() == 1
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    assert TraceEvent.objects.filter(batch=fw.world.batch, biz_step="receiving").count() == 1


def test_sweep_catches_up_an_order_held_by_a_refund_request(fw):
    """The parcel left while a refund request held the order; the request was refused directly in
    orders (not through after-sales), so the order is behind its parcel until the sweep catches it up."""
    from zhunong.orders import services as orders

    order = paid_order(fw.buyer, [(fw.product, 1)])
    orders.request_refund(order=order, actor=fw.buyer, reason="还没发货")
    _ship(fw, order.shipments.get())
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUND_REQUESTED
    orders.reject_refund(order=order, actor=fw.operator, reason="今天已发出")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert sweep_services.sweep().orders_synced == [order.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_periodic_task_runs_the_sweep(fw):
    from zhunong.fulfilment.tasks import fulfilment_sweep

    shipment = paid_order(fw.buyer, [(fw.product, 1)]).shipments.get()
    Shipment.objects.filter(pk=shipment.pk).update(deadline=timezone.now() - dt.timedelta(minutes=5))
    result = fulfilment_sweep.call_local()
    assert result["flagged_late"] == [shipment.pk] and result["errors"] == []
