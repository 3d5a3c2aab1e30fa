"""The documented HTTP contract of orders (docs/api.md): error codes, one order serialiser, 404 outside reach."""

from __future__ import annotations

import json
import re

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
    return world.listed_product(stock=30, price="30.00")


def post_order(api, auth, body, key="k-1", **extra):  # noqa: ANN001, ANN201
    headers = dict(auth, **extra)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post("/api/v1/orders", body, content_type="application/json", **headers)


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256, "a\tb"])
def test_missing_or_bad_idempotency_key_is_idempotency_key_required(api, product, buyer, key):  # noqa: ANN001
    r = post_order(api, bearer(buyer), {"lines": [{"product_id": product.pk, "quantity": 1}]}, key=key)
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_key_required"), r.content
    product.refresh_from_db()
    assert product.stock == 30 and not Order.objects.exists() and not IdempotencyRecord.objects.exists()


def test_openapi_declares_the_idempotency_key_required_with_its_code(api):  # noqa: ANN001
    """Required in the document (a request without it is not one the schema allows), answered with its own
    code when missing: 422 idempotency_key_required, declared among the operation's 422 codes."""
    doc = api.get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/orders"]["post"]
    [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is True
    assert "idempotency_key_required" in key.get("description", "")
    codes = operation["responses"]["422"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"]
    assert "idempotency_key_required" in codes


TIME = re.compile(r'"(created_at|expires_at|paid_at)": "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z)"')


def test_created_order_body_is_the_same_serialisation_as_reads(api, world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=30, price="30.00")
    auth = bearer(buyer)
    first = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 2}]})
    assert first.status_code == 201, first.content
    raw = first.content.decode("utf-8")
    assert "\\u" not in raw and product.name in raw  # Chinese as is
    assert first["Content-Type"].startswith("application/json")
    times = TIME.findall(raw)
    assert {t[0] for t in times} == {"created_at", "expires_at"}, raw
    order_id = first.json()["id"]
    listed = api.get("/api/v1/orders", **auth)
    item = listed.json()["items"][0]
    # The list item is the same object, serialised the same way: its bytes are the 201 body's bytes.
    assert json.dumps(item, ensure_ascii=False).encode() == first.content
    detail = api.get(f"/api/v1/orders/{order_id}", **auth).json()
    assert {k: detail[k] for k in first.json()} == first.json()
    again = post_order(api, auth, {"lines": [{"product_id": product.pk, "quantity": 2}]})
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_another_buyers_order_is_404_not_403(api, product, buyer, world):  # noqa: ANN001
    order_id = post_order(api, bearer(buyer), {"lines": [{"product_id": product.pk, "quantity": 1}]}).json()["id"]
    stranger = bearer(make_user())
    missing = api.get("/api/v1/orders/987654321", **stranger)
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")
    address = {"ship_to_name": "王小明", "ship_to_phone": "13812345678", "ship_to_address": "山东省青岛市市南区香港中路 1 号"}
    for method, path, body in [
        ("get", f"/api/v1/orders/{order_id}", None),
        ("post", f"/api/v1/orders/{order_id}/cancel", {"reason": "x"}),
        ("put", f"/api/v1/orders/{order_id}/shipping-address", address),
        ("post", f"/api/v1/orders/{order_id}/pay", None),
        ("get", f"/api/v1/fulfilment/orders/{order_id}/shipments", None),
        ("post", f"/api/v1/fulfilment/orders/{order_id}/confirm-delivery", None),
    ]:
        kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
        r = getattr(api, method)(path, **kwargs, **stranger)
        assert (r.status_code, r.json()["code"]) == (404, "order_not_found"), (path, r.content)
    order = Order.objects.get(pk=order_id)
    assert order.status == "reserved" and order.ship_to_name == ""
