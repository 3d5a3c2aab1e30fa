"""Events reach the people who hear about them, once per (event, user, channel), over their chosen channels."""

from __future__ import annotations

import pytest
from django.core import mail

from zhunong.fulfilment.models import Shipment
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.tests.conftest import paid_order, place_order
from zhunong.notifications import services, tasks
from zhunong.notifications.errors import SubjectGone, UnknownKind
from zhunong.notifications.kinds import Kind
from zhunong.notifications.models import Delivery, Notification, SandboxSms

pytestmark = pytest.mark.django_db


def _notes(user, kind):  # noqa: ANN001, ANN202
    return list(Notification.objects.filter(user=user, kind=kind))


def test_payment_shipping_and_delivery_reach_the_buyer_once(fw, django_capture_on_commit_callbacks):  # noqa: ANN001
    fw.buyer.email = "buyer@example.com"
    fw.buyer.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(fw.buyer, [(fw.product, 1)])
    [paid] = _notes(fw.buyer, Kind.PAYMENT_CONFIRMED)
    assert order.number in paid.title and paid.url == f"/orders/{order.pk}/"
    assert sorted(paid.deliveries.values_list("channel", "status")) == [("email", "sent"), ("in_site", "sent")]
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]
    # The producer's manager hears about the parcel to ship.
    assert len(_notes(fw.manager, Kind.NEW_ORDER_TO_SHIP)) == 1

    # The same event again (a retried task, a second sweep): nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.emit(kind=Kind.PAYMENT_CONFIRMED, subject_id=order.pk) == []
    assert len(_notes(fw.buyer, Kind.PAYMENT_CONFIRMED)) == 1 and len(mail.outbox) == 1

    shipment = Shipment.objects.get(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf",
                                        tracking_number="SF1234567890")
    [shipped] = _notes(fw.buyer, Kind.SHIPPED)
    assert "顺丰速运" in shipped.body and "SF1234567890" in shipped.body
    with django_capture_on_commit_callbacks(execute=True):
        shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    assert len(_notes(fw.buyer, Kind.DELIVERED)) == 1


def test_an_event_about_a_deleted_order_tells_nobody_and_changes_nothing(fw):  # noqa: ANN001
    order = place_order(fw.buyer, [(fw.product, 1)])
    gone = order.pk + 1000
    with pytest.raises(SubjectGone) as caught:
        services.emit(kind=Kind.PAYMENT_CONFIRMED, subject_id=gone)
    assert caught.value.code == "notification_subject_gone"
    assert tasks.emit_event.call_local(Kind.PAYMENT_CONFIRMED, gone) == 0  # the task gives up, no retry
    with pytest.raises(UnknownKind):
        services.emit(kind="birthday", subject_id=order.pk)
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_channels_follow_the_users_choice_and_sms_goes_through_the_sandbox(fw, django_capture_on_commit_callbacks):  # noqa: ANN001
    services.set_channels(user=fw.buyer, kind=Kind.PAYMENT_CONFIRMED, channels=["sms"])
    fw.buyer.phone = "13800001111"
    fw.buyer.save(update_fields=["phone"])
    with django_capture_on_commit_callbacks(execute=True):
        paid_order(fw.buyer, [(fw.product, 1)])
    [note] = _notes(fw.buyer, Kind.PAYMENT_CONFIRMED)
    assert note.in_site is False and list(note.deliveries.values_list("channel", "status")) == [("sms", "sent")]
    [sms] = SandboxSms.objects.all()
    assert sms.phone == "13800001111" and sms.text.startswith("【助农直播】订单")
    assert mail.outbox == []

    # No phone on file: the SMS is recorded as undeliverable, not retried.
    fw.buyer.phone = ""
    fw.buyer.save(update_fields=["phone"])
    with django_capture_on_commit_callbacks(execute=True):
        paid_order(fw.buyer, [(fw.product, 1)])
    assert Delivery.objects.filter(status="skipped", last_error="no phone number").count() == 1
    assert SandboxSms.objects.count() == 1

    # Nothing chosen: this kind is not notified at all.
    services.set_channels(user=fw.buyer, kind=Kind.PAYMENT_CONFIRMED, channels=[])
    with django_capture_on_commit_callbacks(execute=True):
        paid_order(fw.buyer, [(fw.product, 1)])
    assert len(_notes(fw.buyer, Kind.PAYMENT_CONFIRMED)) == 2


def test_a_failed_send_is_retried_and_a_sent_one_never_again(fw, monkeypatch):  # noqa: ANN001
    from zhunong.notifications import delivery

    order = paid_order(fw.buyer, [(fw.product, 1)])  # commit callbacks not run: nothing delivered yet
    services.set_channels(user=fw.buyer, kind=Kind.PAYMENT_CONFIRMED, channels=["sms"])
    fw.buyer.phone = "13800002222"
    fw.buyer.save(update_fields=["phone"])
    [note] = services.emit(kind=Kind.PAYMENT_CONFIRMED, subject_id=order.pk)
    item = note.deliveries.get()

    def down(self, *, phone: str, text: str) -> None:  # noqa: ANN001
        raise ConnectionError("gateway down")

    monkeypatch.setattr(delivery.SandboxSmsProvider, "send", down)
    with pytest.raises(ConnectionError):
        services.deliver(delivery_id=item.pk)
    item.refresh_from_db()
    assert (item.status, item.attempts, item.last_error) == ("failed", 1, "ConnectionError: gateway down")
    monkeypatch.undo()
    assert services.deliver(delivery_id=item.pk) == "sent"
    assert services.deliver(delivery_id=item.pk) == "sent"  # already sent: not sent again
    assert SandboxSms.objects.count() == 1
    item.refresh_from_db()
    assert item.attempts == 2

    # A delivery claimed by a worker that died mid-send stays claimed: at most once, never twice.
    Delivery.objects.filter(pk=item.pk).update(status="sending")
    assert services.deliver(delivery_id=item.pk) == "sending" and SandboxSms.objects.count() == 1


def test_after_sales_decisions_and_refunds_reach_the_buyer(fw, django_capture_on_commit_callbacks):  # noqa: ANN001
    from zhunong.fulfilment.services import after_sales
    from zhunong.payments.models import Refund

    order = paid_order(fw.buyer, [(fw.product, 2)])
    line = order.lines.get()
    request = after_sales.request_after_sales(actor=fw.buyer, line=line, kind="refund_only", reason="quality",
                                              evidence="一半软烂", amount="10.00")
    with django_capture_on_commit_callbacks(execute=True):
        after_sales.approve_after_sales(actor=fw.manager, request=request, note="同意")
    [decided] = _notes(fw.buyer, Kind.AFTER_SALES_DECIDED)
    assert "已同意" in decided.body and "同意" in decided.body
    refund = Refund.objects.get(order=order)
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.SUCCEEDED, completed_at=refund.created_at)
    assert tasks.sweep_unannounced()["refund_paid"] == 1
    assert tasks.sweep_unannounced()["refund_paid"] == 0  # once
    [paid] = _notes(fw.buyer, Kind.REFUND_PAID)
    assert "¥10.00" in paid.body


def test_failed_refunds_and_flags_reach_the_county_staff(fw):  # noqa: ANN001
    from django.utils import timezone

    from zhunong.core.integrity import ConcernKind, report_concern
    from zhunong.payments.models import Refund
    from zhunong.supervision.models import IntegrityFlag

    order = paid_order(fw.buyer, [(fw.product, 1)])
    refund = Refund.objects.create(order=order, payment_ref="p", reference="r-fail", amount="5.00", attempts=5,
                                   status=Refund.Status.FAILED, escalated_at=timezone.now())
    assert tasks.sweep_unannounced()["refund_failed"] == 1
    [failed] = _notes(fw.operator, Kind.REFUND_FAILED)
    assert str(refund.amount) in failed.body

    report_concern(kind=ConcernKind.OTHER, summary="测试预警", subject=refund, region=fw.world.county, details={})
    flag = IntegrityFlag.objects.latest("pk")
    services.emit(kind=Kind.INTEGRITY_FLAG, subject_id=flag.pk)
    assert [n.url for n in _notes(fw.operator, Kind.INTEGRITY_FLAG)] == [f"/office/flags/{flag.pk}/"]
    assert _notes(fw.buyer, Kind.INTEGRITY_FLAG) == []


def test_late_parcels_reach_the_producer(fw):  # noqa: ANN001
    from django.utils import timezone

    order = paid_order(fw.buyer, [(fw.product, 1)])
    Shipment.objects.filter(order=order).update(late=True, late_flagged_at=timezone.now())
    assert tasks.sweep_unannounced()["parcel_late"] == 1
    assert len(_notes(fw.manager, Kind.PARCEL_LATE)) == 1 and _notes(fw.manager2, Kind.PARCEL_LATE) == []
