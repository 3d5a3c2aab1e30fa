"""What a client is told when it must come back later (docs/reliability.md): a throttle's 429 and an outage's
503 carry `Retry-After` as well as `details.retry_after`, and the order pages say the new refusals in
Chinese (English where the page is English)."""

from __future__ import annotations

import pytest
from django.utils import translation

from zhunong.core.errors import DomainError
from zhunong.live import store
from zhunong.orders import views
from zhunong.orders.errors import InventoryUnavailable
from zhunong.testing import api_auth, make_user, start_sale


def _retry_after(response) -> int:  # noqa: ANN001
    body = response.json()
    assert response["Retry-After"] == str(body["details"]["retry_after"]), (response.headers, body)
    return int(response["Retry-After"])


@pytest.mark.django_db
def test_throttled_gifts_and_reports_answer_429_with_retry_after(client, world):  # noqa: ANN001
    store.reset_memory_store()
    room = world.live_room(1)
    alice = make_user()
    for kind in ("gift", "report"):
        store.reset_throttle(kind, alice.pk)
    gifts = f"/api/v1/live/streams/{room.stream.pk}/gifts"
    answers = [client.post(gifts, {"kind": "flower"}, content_type="application/json", **api_auth(alice))
               for _ in range(store.GIFTS_PER_WINDOW + 1)]
    assert answers[-1].status_code == 429 and "Retry-After" not in answers[0]
    assert 0 < _retry_after(answers[-1]) <= store.GIFT_WINDOW
    reports = f"/api/v1/live/streams/{room.stream.pk}/reports"
    targets = [make_user() for _ in range(store.REPORTS_PER_WINDOW + 1)]
    answers = [client.post(reports, {"reason": "spam", "user_id": t.pk}, content_type="application/json",
                           **api_auth(alice)) for t in targets]
    assert answers[-1].status_code == 429 and _retry_after(answers[-1]) > 0


@pytest.mark.postgres_redis
@pytest.mark.django_db
def test_redis_unreachable_while_taking_stock_answers_503_with_retry_after(client, world, settings, monkeypatch):  # noqa: ANN001
    from redis.exceptions import ConnectionError as RedisConnectionError

    from zhunong.orders import inventory
    from zhunong.orders.models import Order

    settings.INVENTORY_BACKEND = "redis"
    settings.ORDERS_FAST_PATH = False
    product = world.listed_product(stock=20)
    room = world.live_room([product], kind="county_head", pin=product)
    start_sale(room, product, quantity=5, limit=2)
    backend = inventory.get_backend("redis")

    def unreachable(**kwargs):  # noqa: ANN003, ANN202
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(backend, "_reserve", unreachable)
    buyer = make_user()
    response = client.post("/api/v1/orders", {"lines": [{"product_id": product.pk, "quantity": 1}],
                                              "stream_id": room.stream.pk}, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="k1", **api_auth(buyer))
    assert response.status_code == 503 and response.json()["code"] == "inventory_unavailable"
    assert _retry_after(response) == InventoryUnavailable.RETRY_AFTER_SECONDS
    assert not Order.objects.exists()


@pytest.mark.parametrize("code", ["inventory_unavailable", "too_many_open_orders", "units_cap_exceeded"])
def test_the_order_pages_say_these_refusals_in_the_buyers_language(code):  # noqa: ANN001
    exc = DomainError(code=code)
    with translation.override("zh-hans"):
        zh = views._friendly(exc)
    with translation.override("en"):
        en = views._friendly(exc)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), zh
    assert en != zh and en.isascii() and en != exc.message, en
