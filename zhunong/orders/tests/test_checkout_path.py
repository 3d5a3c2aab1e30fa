"""One checkout path (docs/decisions/0033): the buy box, the purchase sheet, the cart and POST /api/v1/orders
choose the coupon and the address through services_checkout.place_order, so the API does what the pages do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from zhunong.core.errors import DomainError
from zhunong.orders import addresses, flashsales, services, services_checkout
from zhunong.orders.models import Order
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王小明", "13800001234", "山东省青岛市市南区香港中路 1 号"
JS = "application/json"


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=100, price="39.90", cost_floor="20.00")
    return world.live_room([product], kind="county_head", pin=product)


def signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def claimed(room, buyer, value: str):  # noqa: ANN001, ANN201
    coupon = flashsales.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value=value,
                                       min_spend="0", total_quantity=10, valid_minutes=60)
    services.claim_coupon(buyer=buyer, coupon=coupon)
    return coupon


def api_order(client: Client, key: str, **body):  # noqa: ANN003, ANN201
    return client.post("/api/v1/orders", body, content_type=JS, HTTP_IDEMPOTENCY_KEY=key)


def test_api_order_takes_the_default_address_like_the_pages(room, buyer):  # noqa: ANN001
    product = room.products[0]
    client = signed_in(buyer)
    bare = api_order(client, "no-book", lines=[{"product_id": product.pk, "quantity": 1}])
    assert bare.status_code == 201
    assert Order.objects.get(pk=bare.json()["id"]).ship_to_name == ""  # no book yet: given later with PUT

    addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=ADDRESS)
    other = addresses.add_address(buyer=buyer, name="李四", phone="13900004321", address="湖南省长沙市岳麓区")
    made = api_order(client, "with-book", lines=[{"product_id": product.pk, "quantity": 1}])
    detail = client.get(f"/api/v1/orders/{made.json()['id']}").json()
    assert (detail["ship_to_name"], detail["ship_to_phone"], detail["ship_to_address"]) == (NAME, PHONE, ADDRESS)
    assert [h["reason"] for h in detail["history"]] == ["order placed", "shipping address set"]
    # The body is the order as before (no address in it), the same on a replay.
    again = api_order(client, "with-book", lines=[{"product_id": product.pk, "quantity": 1}])
    assert again.json() == made.json() and again["Idempotent-Replayed"] == "true"

    # address_id picks another entry of the book; someone else's → 404, nothing ordered.
    chosen = api_order(client, "chosen", lines=[{"product_id": product.pk, "quantity": 1}], address_id=other.pk)
    assert Order.objects.get(pk=chosen.json()["id"]).ship_to_name == "李四"
    before = Order.objects.count()
    refused = api_order(signed_in(make_user()), "theirs", lines=[{"product_id": product.pk, "quantity": 1}],
                        address_id=other.pk)
    assert refused.status_code == 404 and refused.json()["code"] == "address_not_found"
    assert Order.objects.count() == before
    # Editing the book later never moves an order's address (its own copy).
    addresses.update_address(buyer=buyer, address_id=other.pk, name="王五", phone="13900004321",
                             address="湖南省长沙市岳麓区")
    assert Order.objects.get(pk=chosen.json()["id"]).ship_to_name == "李四"


def test_api_best_coupon_is_the_pages_choice_and_omitted_means_none(room, buyer):  # noqa: ANN001
    product = room.products[0]
    small, big = claimed(room, buyer, "3"), claimed(room, buyer, "8")
    client = signed_in(buyer)
    line = [{"product_id": product.pk, "quantity": 1}]
    plain = api_order(client, "plain", lines=line, stream_id=room.stream.pk)
    assert plain.json()["coupon_code"] is None and plain.json()["total"] == "39.90"
    best = api_order(client, "best", lines=line, stream_id=room.stream.pk, best_coupon=True)
    assert best.status_code == 201 and best.json()["coupon_code"] == big.code and best.json()["total"] == "31.90"
    # Resubmitted, it answers the same order although its coupon is used now (no longer "the best").
    replay = api_order(client, "best", lines=line, stream_id=room.stream.pk, best_coupon=True)
    assert replay.status_code == 201 and replay.json() == best.json()
    # The buy box makes the same choice as best_coupon: the best coupon left.
    signed_in(buyer).post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "stream_id": room.stream.pk,
                                           "idempotency_key": "box-1"})
    assert Order.objects.filter(buyer=buyer).latest("pk").coupon_id == small.pk
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["components"]["schemas"]["OrderIn"]["properties"]
    assert {"best_coupon", "address_id"} <= set(body)
    answers = schema["paths"]["/api/v1/orders"]["post"]["responses"]
    assert "404" in answers


def test_place_order_checks_a_typed_address_before_taking_stock(room, buyer):  # noqa: ANN001
    product = room.products[0]
    stock = product.stock
    with pytest.raises(DomainError) as exc:
        services_checkout.place_order(buyer=buyer, lines=[(product.pk, 2)], idempotency_key="typed-1",
                                      typed_address={"ship_to_name": NAME, "ship_to_phone": "12",
                                                     "ship_to_address": ADDRESS})
    assert exc.value.code == "invalid_ship_to_phone"
    product.refresh_from_db()
    assert product.stock == stock and not Order.objects.exists()
    order = services_checkout.place_order(buyer=buyer, lines=[(product.pk, 2)], idempotency_key="typed-2",
                                          typed_address={"ship_to_name": NAME, "ship_to_phone": PHONE,
                                                         "ship_to_address": ADDRESS})
    assert order.ship_to_phone == PHONE and order.total == Decimal("79.80")
    # The first typed address became the default; the next order takes it without being told.
    assert addresses.default_address(buyer).phone == PHONE
    assert services_checkout.place_order(buyer=buyer, lines=[(product.pk, 1)],
                                         idempotency_key="typed-3").ship_to_phone == PHONE
