"""The rules that prevent abuse (docs/supervision.md "Rules"): approvals of officials' streams, public servants
receive nothing, below-cost coupons need a reason and raise a flag, quota wording is flagged, and every refused
attempt is in the audit log after its transaction rolled back."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.catalog import services as catalog
from zhunong.catalog.errors import BelowCostWithoutReason
from zhunong.core.models import AuditEntry
from zhunong.fulfilment.errors import PublicServantMustUseFund
from zhunong.fulfilment.services import pledges
from zhunong.live import approvals, chat
from zhunong.live import streams as live
from zhunong.live.errors import (
    ApprovalNotNeeded,
    ApprovalOutdated,
    ApprovalRequired,
    ApprovedShelfLocked,
    ApproverOutsideRegion,
    GiftRefused,
    NotApprover,
    StreamNotScheduled,
)
from zhunong.live.models import Announcement, Gift, Host, StreamApproval, StreamStatus
from zhunong.orders import services as orders
from zhunong.orders.errors import CouponBelowCost, CouponRefusedPublicServant
from zhunong.orders.models import CouponClaim
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import build_world, make_user


def refused(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, outcome=AuditEntry.Outcome.REFUSED).order_by("pk"))


@pytest.fixture
def official(world):  # noqa: ANN001, ANN201
    """A county head's scheduled stream with two listed products."""
    return world.live_room(2, kind=Host.Kind.COUNTY_HEAD, host_title="副县长", status=StreamStatus.SCHEDULED)


# --- approvals -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_official_stream_does_not_go_live_without_approval_and_the_refusal_is_kept(official) -> None:  # noqa: ANN001
    with pytest.raises(ApprovalRequired) as info:
        live.start_stream(stream=official.stream, actor=official.host_user)
    assert (info.value.code, info.value.status) == ("stream_approval_required", 409)
    official.stream.refresh_from_db()
    assert official.stream.status == StreamStatus.SCHEDULED
    (entry,) = refused("live.stream_start_refused")  # written after the refused transaction rolled back
    assert entry.actor == official.host_user and entry.subject_id == str(official.stream.pk)
    assert entry.after["code"] == "stream_approval_required"


@pytest.mark.django_db
def test_the_media_server_cannot_start_it_either(official) -> None:  # noqa: ANN001
    with pytest.raises(ApprovalRequired):
        live.start_stream(stream=official.stream, actor=None)
    assert refused("live.stream_start_refused")[0].actor is None


@pytest.mark.django_db
def test_an_approval_keeps_approver_reason_and_what_it_covers_and_lets_it_go_live(world, official) -> None:  # noqa: ANN001
    approval = approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True,
                                reason="身份、商品、价格已核实")
    assert approval.approver == world.discipline_inspector and approval.reason == "身份、商品、价格已核实"
    assert approval.covers["host"]["kind"] == "county_head"
    assert {p["id"] for p in approval.covers["products"]} == {p.pk for p in official.products}
    assert AuditEntry.objects.filter(action="live.stream_approved", actor=world.discipline_inspector).exists()
    stream = live.start_stream(stream=official.stream, actor=official.host_user)
    assert stream.status == StreamStatus.LIVE


@pytest.mark.django_db
def test_a_refusal_by_the_office_keeps_the_stream_off_air(world, official) -> None:  # noqa: ANN001
    approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=False, reason="价格未核实")
    with pytest.raises(ApprovalRequired):
        live.start_stream(stream=official.stream, actor=official.host_user)


@pytest.mark.django_db
def test_a_price_change_after_approval_needs_a_new_approval(world, official) -> None:  # noqa: ANN001
    approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True, reason="已核实")
    product = official.products[0]
    catalog.change_price(actor=world.operator, product=product, price="35.00")
    with pytest.raises(ApprovalOutdated) as info:
        live.start_stream(stream=official.stream, actor=official.host_user)
    assert info.value.details["differences"] == [f"product {product.pk} price 39.90 -> 35.00"]
    approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True, reason="新价格已核实")
    assert live.start_stream(stream=official.stream, actor=official.host_user).status == StreamStatus.LIVE
    assert StreamApproval.objects.filter(stream=official.stream).count() == 2  # the first stays, voided
    assert StreamApproval.objects.filter(stream=official.stream, voided_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_a_shelf_change_voids_the_approval_at_once(world, official) -> None:  # noqa: ANN001
    approval = approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True, reason="可")
    live.set_stream_products(actor=world.operator, stream=official.stream, products=official.products[:1])
    approval.refresh_from_db()
    assert approval.voided_at is not None and "removed" in approval.void_reason
    with pytest.raises(ApprovalRequired):
        live.start_stream(stream=official.stream, actor=official.host_user)


@pytest.mark.django_db
def test_the_shelf_of_a_live_official_stream_is_locked(world) -> None:  # noqa: ANN001
    room = world.live_room(2, kind=Host.Kind.FIRST_SECRETARY)
    with pytest.raises(ApprovedShelfLocked):
        live.set_stream_products(actor=world.operator, stream=room.stream, products=room.products[:1])
    assert room.stream.products.count() == 2


@pytest.mark.django_db
def test_who_may_approve(world, official) -> None:  # noqa: ANN001
    other = build_world()
    outsider = make_user(roles.DISCIPLINE_INSPECTOR, region=other.county)
    with pytest.raises(ApproverOutsideRegion):
        approvals.decide(actor=outsider, stream=official.stream, approve=True, reason="x")
    for user in (world.operator, world.regulator, official.host_user):
        with pytest.raises(NotApprover):
            approvals.decide(actor=user, stream=official.stream, approve=True, reason="x")
    assert not StreamApproval.objects.exists()


@pytest.mark.django_db
def test_bad_approvals_change_nothing(world, official) -> None:  # noqa: ANN001
    villager = world.live_room(1, status=StreamStatus.SCHEDULED)
    with pytest.raises(ApprovalNotNeeded):
        approvals.decide(actor=world.discipline_inspector, stream=villager.stream, approve=True, reason="x")
    with pytest.raises(Exception) as info:
        approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True, reason="  ")
    assert info.value.code == "invalid"
    live.cancel_stream(actor=world.operator, stream=official.stream, reason="改期")
    with pytest.raises(StreamNotScheduled):
        approvals.decide(actor=world.discipline_inspector, stream=official.stream, approve=True, reason="x")
    assert not StreamApproval.objects.exists()


# --- public servants receive nothing ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_gift_to_an_official_is_refused_stored_flagged_and_audited(world) -> None:  # noqa: ANN001
    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD)
    viewer = make_user()
    with pytest.raises(GiftRefused):
        chat.send_gift(user=viewer, stream=room.stream, kind="flower", via="api")
    assert Gift.objects.get(stream=room.stream).refused
    assert IntegrityFlag.objects.filter(kind="gift_to_official").count() == 1
    (entry,) = refused("live.gift_refused")
    assert entry.actor == viewer and entry.after["code"] == "gift_refused_public_servant"


@pytest.mark.django_db
def test_officials_take_no_coupons_of_their_channel_and_the_attempt_is_kept(world) -> None:  # noqa: ANN001
    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD)
    colleague = world.live_room(0, kind=Host.Kind.TOWNSHIP_OFFICIAL, status=StreamStatus.SCHEDULED).host_user
    coupon = orders.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value="5",
                                   total_quantity=10, valid_minutes=30)
    for user in (room.host_user, colleague):
        with pytest.raises(CouponRefusedPublicServant) as info:
            orders.claim_coupon(buyer=user, coupon=coupon)
        assert info.value.code == "coupon_refused_public_servant"
    assert not CouponClaim.objects.exists()
    assert [e.actor for e in refused("orders.coupon_refused")] == [room.host_user, colleague]
    assert orders.claim_coupon(buyer=make_user(), coupon=coupon).coupon == coupon  # a viewer may


@pytest.mark.django_db
def test_an_official_pledges_from_the_fund_only_and_the_attempt_is_kept(world) -> None:  # noqa: ANN001
    room = world.live_room(1, kind=Host.Kind.FIRST_SECRETARY)
    with pytest.raises(PublicServantMustUseFund):
        pledges.create_pledge(actor=room.host_user, stream=room.stream, terms="坏果包赔", max_per_claim="20",
                              funded_by="host")
    assert refused("fulfilment.pledge_refused")[0].actor == room.host_user


# --- below cost ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_price_below_cost_without_reason_is_refused_and_the_attempt_is_kept(world) -> None:  # noqa: ANN001
    product = world.listed_product()
    with pytest.raises(BelowCostWithoutReason):
        catalog.change_price(actor=world.operator, product=product, price="10.00")
    product.refresh_from_db()
    assert product.price == Decimal("39.90")
    (entry,) = refused("catalog.below_cost_refused")
    assert entry.actor == world.operator and entry.subject_id == str(product.pk)
    assert entry.after["details"]["cost_floor"] == "20.00"


@pytest.mark.django_db
def test_a_coupon_with_a_below_cost_reason_is_flagged_when_released(world) -> None:  # noqa: ANN001
    room = world.live_room(1)
    coupon = orders.release_coupon(actor=room.host_user, stream=room.stream, kind="percent", value="80",
                                   total_quantity=5, valid_minutes=30, below_cost_reason="临期清仓")
    flag = IntegrityFlag.objects.get(kind="below_cost")
    assert flag.subject == coupon and flag.region == world.county and flag.details["reason"] == "临期清仓"


@pytest.mark.django_db
def test_a_below_cost_coupon_order_without_reason_is_refused_and_kept(world) -> None:  # noqa: ANN001
    room = world.live_room(1)
    coupon = orders.release_coupon(actor=room.host_user, stream=room.stream, kind="percent", value="80",
                                   total_quantity=5, valid_minutes=30)
    buyer = make_user()
    orders.claim_coupon(buyer=buyer, coupon=coupon)
    with pytest.raises(CouponBelowCost):
        orders.create_order(buyer=buyer, lines=[{"product_id": room.products[0].pk, "quantity": 1}],
                            stream=room.stream, idempotency_key=uuid.uuid4().hex, coupon_code=coupon.code)
    assert refused("orders.coupon_refused")[0].actor == buyer


@pytest.mark.django_db
def test_the_console_coupon_form_records_the_below_cost_reason(client, world) -> None:  # noqa: ANN001
    room = world.live_room(1)
    client.force_login(room.host_user)
    response = client.post(f"/orders/streams/{room.stream.pk}/coupons/", {
        "kind": "percent", "value": "80", "min_spend": "0", "total_quantity": "3", "valid_minutes": "30",
        "below_cost_reason": "试吃装，县财政补贴"})
    assert response.status_code == 302
    assert room.stream.coupons.get().below_cost_reason == "试吃装，县财政补贴"


# --- quota wording --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("text, terms", [
    ("各单位每 人 至 少 下单两箱", ["每人至少"]),
    ("本場最低消費 100 元，列入考核", ["最低消费", "考核"]),  # traditional characters
    ("完成销售任务，人均三单", ["人均", "任务"]),
])
def test_quota_wording_in_an_announcement_is_flagged_not_blocked(world, text, terms) -> None:  # noqa: ANN001
    room = world.live_room(1)
    item = live.post_announcement(actor=room.host_user, stream=room.stream, text=text)
    assert Announcement.objects.filter(pk=item.pk).exists()  # the host is not blocked
    flag = IntegrityFlag.objects.get(kind="quota")
    assert set(flag.details["terms"]) == set(terms) and flag.subject == item and flag.region == world.county


@pytest.mark.django_db
def test_quota_wording_in_a_title_is_flagged_and_plain_text_is_not(world) -> None:  # noqa: ANN001
    world.live_room(0, title="今晚茶园直播，欢迎来看", status=StreamStatus.SCHEDULED)
    assert not IntegrityFlag.objects.filter(kind="quota").exists()
    room = world.live_room(0, title="干部必须购买专场", status=StreamStatus.SCHEDULED)
    flag = IntegrityFlag.objects.get(kind="quota")
    assert flag.subject == room.stream and flag.details["terms"] == ["必须购买"]


@pytest.mark.django_db
def test_approvals_need_a_scheduled_start_in_the_future_only_through_the_stream(world) -> None:  # noqa: ANN001
    """Scheduling itself needs no approval: the office approves a stream whose shelf is known."""
    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD, status=StreamStatus.SCHEDULED,
                           starts_in=dt.timedelta(days=1))
    assert room.stream.status == StreamStatus.SCHEDULED and room.stream.planned_start > timezone.now()
    assert approvals.approval_state(room.stream)["needed"] is True


@pytest.mark.django_db
def test_the_coupon_api_refuses_an_official_with_its_declared_code(client, world) -> None:  # noqa: ANN001
    from zhunong.testing import api_auth

    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD)
    coupon = orders.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value="5",
                                   total_quantity=10, valid_minutes=30)
    response = client.post(f"/api/v1/coupons/{coupon.pk}/claim", **api_auth(room.host_user))
    assert (response.status_code, response.json()["code"]) == (403, "coupon_refused_public_servant")


def test_no_payee_but_producers_and_the_payer() -> None:
    """Money leaves the platform only to producers (the ledger) or back to the order's own payment (refunds):
    neither model has a field that could name a host, a public servant or any other account."""
    from zhunong.payments.models import LedgerEntry, Refund

    def relations(model) -> set[str]:  # noqa: ANN001
        return {f.name for f in model._meta.get_fields() if f.is_relation and f.many_to_one}

    assert relations(LedgerEntry) <= {"producer", "order_line", "refund"}
    assert relations(Refund) <= {"order"}
    assert "payment_ref" in {f.name for f in Refund._meta.get_fields()}


@pytest.mark.django_db
def test_the_console_explains_why_an_official_stream_cannot_start(client, official) -> None:  # noqa: ANN001
    client.force_login(official.host_user)
    response = client.post(f"/live/{official.stream.pk}/start/", follow=True)
    assert "须经本县纪检监察审批" in response.content.decode()
    official.stream.refresh_from_db()
    assert official.stream.status == StreamStatus.SCHEDULED
