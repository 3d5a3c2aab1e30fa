from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts.services import issue_token
from zhunong.orders.models import IdempotencyRecord, Order
from zhunong.testing import PASSWORD, make_user


def bearer(user) -> dict:  # noqa: ANN001
    _, raw = issue_token(username=user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def api():  # noqa: ANN201
    return Client()


@pytest.fixture
def product(world):  # noqa: ANN001, ANN201
    return world.listed_product(stock=3, price="30.00")


def post_order(api, auth, body, key="k-1"):  # noqa: ANN001, ANN201
    headers = dict(auth)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post("/api/v1/orders", body, content_type="application/json", **headers)


def test_create_and_replay(api, product, buyer):  # noqa: ANN001
    auth = bearer(buyer)
    body = {"lines": [{"product_id": product.pk, "quantity": 2}]}
    first = post_order(api, auth, body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "reserved" and data["total"] == "60.00" and data["expires_at"]
    again = post_order(api, auth, body)
    assert again.status_code == 201 and again.json() == data and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content  # the same bytes, also where the database reorders JSON keys
    assert Order.objects.count() == 1
    reused = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 1}]})
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    # A key is the buyer's own: another buyer's same key is another order.
    other = post_order(api, bearer(make_user()), {"lines": [{"product_id": product.pk, "quantity": 1}]})
    assert other.status_code == 201 and other.json()["id"] != data["id"]


def test_errors(api, product, buyer):  # noqa: ANN001
    auth = bearer(buyer)
    r = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 1}]}, key=None)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_required"
    r = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 4}]}, key="a")
    assert r.status_code == 409 and r.json()["code"] == "sold_out"
    # The same key answers the same, even once stock is back (Stripe semantics).
    assert post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 4}]}, key="a").json()["code"] == "sold_out"
    for qty in (0, -3, 100, 10**15):
        r = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": qty}]}, key=f"q{qty}")
        assert r.status_code == 422 and r.json()["code"] in ("invalid_quantity", "invalid"), r.content
    r = post_order(api, auth, {"lines": [{"product_id": 987654, "quantity": 1}]}, key="u")
    assert r.status_code == 404 and r.json()["code"] == "product_unavailable"
    r = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 1}], "stream_id": 98765}, key="s")
    assert r.status_code == 404 and r.json()["code"] == "stream_not_found"
    assert post_order(api, {}, {"lines": [{"product_id": product.pk, "quantity": 1}]}).status_code == 401
    product.refresh_from_db()
    assert product.stock == 3 and not Order.objects.exists() and not IdempotencyRecord.objects.exists()


def test_view_and_pay_only_own_orders(api, product, buyer, world, caplog):  # noqa: ANN001
    order_id = post_order(api, bearer(buyer), {"lines": [{"product_id": product.pk, "quantity": 1}]}).json()["id"]
    stranger = bearer(make_user())
    assert api.get(f"/api/v1/orders/{order_id}", **stranger).json()["code"] == "order_not_found"
    with caplog.at_level("WARNING", logger="zhunong.abuse"):
        r = api.post(f"/api/v1/orders/{order_id}/pay", **stranger)
    assert r.status_code == 404
    assert api.get(f"/api/v1/orders/{order_id}", **bearer(world.operator)).status_code == 200  # staff over it
    detail = api.get(f"/api/v1/orders/{order_id}", **bearer(buyer)).json()
    assert detail["history"][0]["to_status"] == "reserved"
    mine = api.get("/api/v1/orders", **bearer(buyer)).json()
    assert mine["count"] == 1 and mine["items"][0]["id"] == order_id
    assert api.get("/api/v1/orders", **stranger).json()["count"] == 0
    r = api.post(f"/api/v1/orders/{order_id}/pay", **bearer(buyer))
    assert r.status_code == 201 and r.json()["pay_url"].endswith(f"/pay/sandbox/{r.json()['session_id']}/")
    assert api.post(f"/api/v1/orders/{order_id}/pay", **bearer(buyer)).json()["session_id"] == r.json()["session_id"]
    r = api.post(f"/api/v1/orders/{order_id}/cancel", {"reason": ""}, content_type="application/json",
                 **bearer(buyer))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = api.post(f"/api/v1/orders/{order_id}/pay", **bearer(buyer))
    assert r.status_code == 409 and r.json()["code"] == "reservation_expired"


def test_flash_sale_and_coupon_endpoints(api, world):  # noqa: ANN001
    product = world.listed_product(stock=50, price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    host = bearer(room.host_user)
    body = {"product_id": product.pk, "quantity": 5, "sale_price": "29.90", "per_buyer_limit": 1,
            "countdown_seconds": 10, "duration_minutes": 2}
    r = api.post(f"/api/v1/streams/{room.stream.pk}/flash-sales", body, content_type="application/json", **host)
    assert r.status_code == 201, r.content
    sale = r.json()
    assert sale["status"] == "scheduled" and sale["remaining"] == 5 and sale["seconds_to_start"] > 0
    assert api.get(f"/api/v1/flash-sales/{sale['id']}").json()["id"] == sale["id"]
    r = api.post(f"/api/v1/streams/{room.stream.pk}/flash-sales", body, content_type="application/json",
                 **bearer(make_user()))
    assert r.status_code == 403 and r.json()["code"] == "not_host_of_stream"
    r = api.post(f"/api/v1/streams/{room.stream.pk}/flash-sales", {**body, "sale_price": "45.00"},
                 content_type="application/json", **host)
    assert r.status_code == 422 and r.json()["code"] == "fake_discount"
    r = api.post(f"/api/v1/streams/{room.stream.pk}/coupons", {"kind": "amount", "value": "5", "min_spend": "30",
                                                               "total_quantity": 1, "valid_minutes": 10},
                 content_type="application/json", **host)
    assert r.status_code == 201, r.content
    coupon = r.json()
    buyer = bearer(make_user())
    assert api.post(f"/api/v1/coupons/{coupon['id']}/claim", **buyer).status_code == 201
    r = api.post(f"/api/v1/coupons/{coupon['id']}/claim", **buyer)
    assert r.status_code == 409 and r.json()["code"] == "coupon_already_claimed"
    r = api.post(f"/api/v1/coupons/{coupon['id']}/claim", **bearer(make_user()))
    assert r.status_code == 409 and r.json()["code"] == "coupons_gone"
    assert api.get(f"/api/v1/streams/{room.stream.pk}/coupons").json()[0]["remaining"] == 0


def test_pages(product, buyer, world):  # noqa: ANN001
    client = Client()
    client.force_login(buyer)
    page = client.get(f"/p/{product.pk}/")
    assert page.status_code == 200 and "立即购买" in page.content.decode()
    r = client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "idempotency_key": "form-1"})
    order = Order.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/orders/{order.pk}/"
    client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "idempotency_key": "form-1"})
    assert Order.objects.count() == 1  # a double submit is one order
    assert "去支付" in client.get(f"/orders/{order.pk}/").content.decode()
    assert order.number in client.get("/orders/").content.decode()
    r = client.post(f"/orders/{order.pk}/pay/")
    assert r.status_code == 302 and r["Location"].startswith("/pay/sandbox/")
    pay_page = client.get(r["Location"])
    assert pay_page.status_code == 200 and "<svg" in pay_page.content.decode()
    other = Client()
    other.force_login(make_user())
    assert other.get(f"/orders/{order.pk}/").status_code == 404
