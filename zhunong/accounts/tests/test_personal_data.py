"""A buyer downloads their data and deletes their account; what the law keeps stays, anonymised."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from zhunong.accounts import personal_data
from zhunong.accounts.errors import AccountDeletionBlocked, StaffAccountNotDeletable, WrongPassword
from zhunong.accounts.models import User
from zhunong.core.models import AuditEntry
from zhunong.fulfilment.models import Review, Shipment
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.tests.conftest import paid_order
from zhunong.notifications import services as notifications
from zhunong.notifications.models import HostFollow, Notification
from zhunong.orders import addresses
from zhunong.orders.models import Order, OrderStatus, ShippingAddress
from zhunong.testing import PASSWORD, api_auth, make_user
from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401 - autouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(fw):  # noqa: ANN001, ANN201
    """A buyer with a completed order, a saved address, a review, a chat message and a follow."""
    from zhunong.fulfilment.services import reviews
    from zhunong.fulfilment.tests.conftest import pay, place_order
    from zhunong.payments import services as payments

    order = place_order(fw.buyer, [(fw.product, 1)])
    payments.start_checkout(order=order, actor=fw.buyer)
    order = pay(order)
    shipment = Shipment.objects.get(order=order)
    shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf", tracking_number="SF1234567890")
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    addresses.save_default_address(buyer=fw.buyer, name="王小明", phone="13812345678", address="青岛市市南区香港中路1号")
    reviews.create_review(actor=fw.buyer, line=order.lines.get(), rating=5, text="蓝莓很甜，下次还买")
    room = fw.world.live_room(1)
    # A chat line as the room's writer stores it (live.chat.save_chat_batch takes the hub's batches).
    room.stream.chat_messages.create(user=fw.buyer, user_name="小明", text="多少钱一斤", original="多少钱一斤",
                                     created_at=timezone.now())
    notifications.follow_host(user=fw.buyer, host_id=room.host.pk)
    fw.buyer.phone, fw.buyer.email = "13900009999", "xm@example.com"
    fw.buyer.save(update_fields=["phone", "email"])
    return fw, order


def test_a_buyer_downloads_all_their_data_as_a_file(client, history):  # noqa: ANN001
    fw, order = history
    client.force_login(fw.buyer)
    assert client.get("/accounts/my-data/").status_code == 200
    response = client.post("/accounts/my-data/download/")
    assert response.status_code == 200 and "attachment;" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["phone"] == "13900009999" and data["profile"]["email"] == "xm@example.com"
    assert [o["number"] for o in data["orders"]] == [order.number]
    assert data["orders"][0]["ship_to_phone"] == "13812345678"  # their own data, in full
    assert data["addresses"][0]["address"] == "青岛市市南区香港中路1号"
    assert data["reviews"][0]["text"] == "蓝莓很甜，下次还买"
    assert data["chat"][0]["text"] == "多少钱一斤"
    assert len(data["follows"]) == 1 and any(p["kind"] == "payment" for p in data["payments"])
    entry = AuditEntry.objects.get(action="accounts.personal_data_exported")
    assert entry.actor == fw.buyer and "orders" in entry.after["sections"]
    assert client.get("/accounts/my-data/download/").status_code == 405  # a link cannot trigger it


def test_deleting_the_account_anonymises_what_is_kept_and_removes_the_rest(client, history):  # noqa: ANN001
    fw, order = history
    buyer_id, old_name = fw.buyer.pk, fw.buyer.username
    client.force_login(fw.buyer)
    wrong = client.post("/accounts/my-data/delete/", {"password": "nope", "confirm": "yes"})
    assert wrong.status_code == 403 and User.objects.get(pk=buyer_id).is_active
    response = client.post("/accounts/my-data/delete/", {"password": PASSWORD, "confirm": "yes"})
    assert response.status_code == 302
    user = User.objects.get(pk=buyer_id)
    assert not user.is_active and not user.has_usable_password() and user.username != old_name
    assert (user.phone, user.email, user.display_name) == ("", "", "")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.total > 0  # the record stays
    assert (order.ship_to_name, order.ship_to_phone, order.ship_to_address) == ("（已注销）", "", "")
    review = Review.objects.get(buyer_id=buyer_id)
    assert review.rating == 5 and review.text == ""
    assert not ShippingAddress.objects.filter(buyer_id=buyer_id).exists()
    assert not HostFollow.objects.filter(user_id=buyer_id).exists()
    assert not Notification.objects.filter(user_id=buyer_id).exists()
    from zhunong.live.models import ChatMessage

    assert set(ChatMessage.objects.filter(user_id=buyer_id).values_list("user_name", flat=True)) == {"（已注销）"}
    entry = AuditEntry.objects.get(action="accounts.account_deleted")
    assert entry.subject_id == str(buyer_id) and old_name not in json.dumps(entry.after, ensure_ascii=False)
    assert client.get("/accounts/my-data/").status_code == 302  # signed out


def test_orders_under_way_staff_and_hosts_block_deletion_and_nothing_changes(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    with pytest.raises(AccountDeletionBlocked) as caught:
        personal_data.delete_account(user=fw.buyer, password=PASSWORD)
    assert caught.value.details == {"open": [f"订单 {order.number}"]}
    with pytest.raises(WrongPassword):
        personal_data.delete_account(user=fw.buyer, password="wrong")
    with pytest.raises(StaffAccountNotDeletable):
        personal_data.delete_account(user=fw.world.operator, password=PASSWORD)
    fw.buyer.refresh_from_db()
    order.refresh_from_db()
    assert fw.buyer.is_active and order.ship_to_phone == "13812345678"
    assert not AuditEntry.objects.filter(action="accounts.account_deleted").exists()


def test_a_deleted_account_cannot_sign_in_or_use_its_tokens(client, fw):  # noqa: ANN001
    buyer = make_user()
    headers = api_auth(buyer)
    assert client.get("/api/v1/me/notifications", **headers).status_code == 200
    personal_data.delete_account(user=buyer, password=PASSWORD)
    assert client.get("/api/v1/me/notifications", **headers).status_code == 401
    assert not client.login(username=buyer.username, password=PASSWORD)
