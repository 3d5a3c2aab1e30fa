"""The purchase fast path (orders/fastpath.py): the same answers as Django's path, from one Lua script.

Parsing and the record formats are checked everywhere; the path itself needs Redis (postgres_redis) and
is driven through the real ASGI application (zhunong.asgi), with the database committed (transactional)
because the fast path writes orders from its own thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from zhunong.orders import fastpath, hotsales, idempotency, inventory, purchase, selectors, services
from zhunong.orders.errors import SoldOut
from zhunong.orders.models import FlashSale, IdempotencyRecord, Order, OrderStatus
from zhunong.testing import start_sale


def _scope(headers: dict[str, str]) -> dict:
    return {"type": "http", "method": "POST", "path": fastpath.PATH,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


GOOD_HEADERS = {"host": "testserver", "authorization": "Bearer abc", "idempotency-key": "k1"}
GOOD_BODY = {"lines": [{"product_id": 3, "quantity": 1}], "stream_id": 7}


def test_parse_takes_a_plain_one_line_purchase():
    # Cookies beside a bearer token change nothing (Django's API checks the token first, too).
    attempt = fastpath.parse(_scope({**GOOD_HEADERS, "cookie": "csrftoken=x"}), json.dumps(GOOD_BODY).encode())
    assert (attempt.stream_id, attempt.product_id, attempt.quantity, attempt.key) == (7, 3, 1, "k1")
    assert attempt.fingerprint == idempotency.request_fingerprint(lines=[(3, 1)], stream_id=7, coupon_code=None)


@pytest.mark.parametrize("headers, body", [
    ({**GOOD_HEADERS, "host": "evil.example"}, GOOD_BODY),
    ({k: v for k, v in GOOD_HEADERS.items() if k != "authorization"}, GOOD_BODY),
    ({**GOOD_HEADERS, "authorization": "Basic abc"}, GOOD_BODY),
    ({k: v for k, v in GOOD_HEADERS.items() if k != "idempotency-key"}, GOOD_BODY),
    ({**GOOD_HEADERS, "idempotency-key": "bad\x01key"}, GOOD_BODY),
    (GOOD_HEADERS, {**GOOD_BODY, "coupon_code": "ABC"}),
    (GOOD_HEADERS, {**GOOD_BODY, "extra": 1}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 1}]}),  # no stream: not a flash sale
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 1}, {"product_id": 4, "quantity": 1}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 0}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 100}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": True}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": "3", "quantity": 1}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 1.0}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 3, "quantity": 1, "note": "x"}], "stream_id": 7}),
    (GOOD_HEADERS, {"lines": [{"product_id": 2**60, "quantity": 1}], "stream_id": 7}),
    (GOOD_HEADERS, []),
])
def test_anything_unusual_is_left_to_django(headers, body):  # noqa: ANN001
    with pytest.raises(fastpath.Fallthrough):
        fastpath.parse(_scope(headers), json.dumps(body).encode())


def test_malformed_json_and_repeated_headers_are_left_to_django():
    with pytest.raises(fastpath.Fallthrough):
        fastpath.parse(_scope(GOOD_HEADERS), b'{"lines": [')
    scope = _scope(GOOD_HEADERS)
    scope["headers"].append((b"idempotency-key", b"k2"))
    with pytest.raises(fastpath.Fallthrough):
        fastpath.parse(scope, json.dumps(GOOD_BODY).encode())


@given(product_id=st.integers(1, 2**53), quantity=st.integers(1, 99), stream_id=st.integers(1, 2**53))
def test_fingerprint_is_the_services_fingerprint(product_id, quantity, stream_id):  # noqa: ANN001
    # The fast path fingerprints a request as Django's path does (the cleaned lines), so a key used on one
    # path is recognised on the other.
    body = {"lines": [{"product_id": product_id, "quantity": quantity}], "stream_id": stream_id}
    attempt = fastpath.parse(_scope(GOOD_HEADERS), json.dumps(body).encode())
    assert attempt.fingerprint == idempotency.request_fingerprint(
        lines=purchase.clean_lines(body["lines"]), stream_id=stream_id, coupon_code=None)


def test_idempotency_records_round_trip():
    fp = "a" * 64
    record = idempotency.parse(idempotency.failure(fp, "limit_exceeded", {"pool": "sale:1", "limit": 2, "bought": 2}))
    assert (record.kind, record.fingerprint, record.code) == ("F", fp, "limit_exceeded")
    assert record.error_body() == {"code": "limit_exceeded", "message": "Over the per-buyer purchase limit.",
                                   "details": {"pool": "sale:1", "limit": 2, "bought": 2}}
    record = idempotency.parse(idempotency.success(fp, b'{"id": 1, "x": "a|b"}'))
    assert (record.kind, record.body) == ("S", b'{"id": 1, "x": "a|b"}')
    assert idempotency.parse(f"P|{fp}").kind == "P"
    assert idempotency.parse(None) is None


# ---------------------------------------------------------------------------------------------------
# through the ASGI application, against Redis


def _client() -> httpx.AsyncClient:
    from zhunong.asgi import application

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")




def _buy(token: str, key: str, product_id: int, stream_id: int, quantity: int = 1, **extra) -> dict:  # noqa: ANN003
    return {"url": "/api/v1/orders", "headers": {"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            "json": {"lines": [{"product_id": product_id, "quantity": quantity}], "stream_id": stream_id, **extra}}


def _token(user) -> str:  # noqa: ANN001
    from zhunong.accounts.models import ApiToken
    from zhunong.accounts.tokencache import remember

    raw = f"tok-{user.pk}-{timezone.now().timestamp()}"
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    remember({token.key_hash: user.pk})
    return raw


def _run(coro):  # noqa: ANN001, ANN202
    return asyncio.run(coro)


@pytest.fixture
def fast(settings):  # noqa: ANN001, ANN201
    settings.INVENTORY_BACKEND = "redis"
    settings.ORDERS_FAST_PATH = True
    return settings


def _spy(monkeypatch) -> list:  # noqa: ANN001
    """Records which requests Django answered (the fast path handed them over)."""
    calls: list = []
    from zhunong.asgi import application

    http = application.application_mapping["http"]
    inner = http.app

    async def counting(scope, receive, send):  # noqa: ANN001, ANN202
        calls.append(scope["path"])
        await inner(scope, receive, send)

    monkeypatch.setattr(http, "app", counting)
    return calls


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_fast_path_sells_refuses_and_replays_like_django(world, fast, monkeypatch):  # noqa: ANN001
    from zhunong.testing import make_user

    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=3, limit=2, price="29.90")
    assert hotsales.refresh(room.stream.pk, product.pk)  # published on commit already; idempotent
    django_calls = _spy(monkeypatch)
    alice, bob, carol = make_user(), make_user(), make_user()
    ta, tb, tc = _token(alice), _token(bob), _token(carol)
    sid, pid = room.stream.pk, product.pk
    # Bob keeps an address book: his order takes its default on this path too (docs/decisions/0033).
    from zhunong.orders import addresses

    addresses.add_address(buyer=bob, name="王小明", phone="13800001234", address="山东省青岛市市南区香港中路 1 号")

    async def scenario() -> list:
        async with _client() as c:
            first = await c.post(**_buy(ta, "a1", pid, sid, 2))
            again = await c.post(**_buy(ta, "a1", pid, sid, 2))
            other_body = await c.post(**_buy(ta, "a1", pid, sid, 1))
            over_limit = await c.post(**_buy(ta, "a2", pid, sid, 1))
            last = await c.post(**_buy(tb, "b1", pid, sid, 1))
            sold_out = await c.post(**_buy(tc, "c1", pid, sid, 1))
            sold_out_again = await c.post(**_buy(tc, "c1", pid, sid, 1))
            detail = await c.get(f"/api/v1/orders/{first.json()['id']}", headers={"Authorization": f"Bearer {ta}"})
            return [first, again, other_body, over_limit, last, sold_out, sold_out_again, detail]

    first, again, other_body, over_limit, last, sold_out, sold_out_again, detail = _run(scenario())
    assert django_calls == [f"/api/v1/orders/{first.json()['id']}"]  # only the GET went through Django

    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    body = first.json()
    assert body["status"] == "reserved" and body["total"] == "59.80" and body["lines"][0]["flash_sale_id"] == sale.pk
    assert body["lines"][0]["producer_id"] == product.producers.first().pk
    order = Order.objects.get(pk=body["id"])
    # What the buyer was told is what the database holds, as the Django path would show it.
    from zhunong.orders.selectors import order_payload

    assert json.loads(json.dumps(order_payload(order))) == body
    assert tuple(body) == selectors.ORDER_KEYS and tuple(body["lines"][0]) == selectors.LINE_KEYS
    assert IdempotencyRecord.objects.get(buyer=alice, key="a1").response == body
    assert order.history.get().to_status == OrderStatus.RESERVED
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]

    assert again.status_code == 201 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"
    assert over_limit.status_code == 409 and over_limit.json() == {
        "code": "limit_exceeded", "message": "Over the per-buyer purchase limit.",
        "details": {"pool": f"sale:{sale.pk}", "limit": 2, "bought": 2}}
    assert last.status_code == 201
    bobs = Order.objects.get(pk=last.json()["id"])
    assert (bobs.ship_to_name, bobs.ship_to_phone) == ("王小明", "13800001234") and order.ship_to_name == ""
    assert [t.reason for t in bobs.history.all()] == ["order placed", "shipping address set"]
    assert sold_out.status_code == 409 and sold_out.json()["code"] == "sold_out"

    # A process that died after committing the order but before recording it in Redis leaves the key
    # "in flight"; a retry waits briefly, then finds the order in the database.
    monkeypatch.setattr(fastpath, "WAIT_FOR_TWIN", 0.1)
    redis = hotsales._client()
    redis.set(idempotency.redis_key(alice.pk, "a1"), f"P|{idempotency.request_fingerprint(lines=[(pid, 2)], stream_id=sid, coupon_code=None)}")

    async def retry() -> httpx.Response:
        async with _client() as c:
            return await c.post(**_buy(ta, "a1", pid, sid, 2))

    recovered = _run(retry())
    assert recovered.status_code == 201 and recovered.content == first.content
    assert recovered.headers["idempotent-replayed"] == "true"
    assert idempotency.parse(redis.get(idempotency.redis_key(alice.pk, "a1"))).kind == "S"
    assert sold_out_again.content == sold_out.content

    # The Django path replays the fast path's refusal for that key, and vice versa.
    with pytest.raises(SoldOut):
        services.create_order(buyer=carol, lines=[{"product_id": pid, "quantity": 1}], stream=room.stream,
                              idempotency_key="c1")
    backend = inventory.get_backend("redis")
    assert backend.remaining(inventory.pool("sale", sale.pk)) == 0
    assert Order.objects.filter(lines__flash_sale=sale).count() == 2
    # The sell-out went through the sale's machine after commit, and the record says so.
    sale.refresh_from_db()
    assert sale.status == "sold_out"
    assert hotsales._client().hget(hotsales.key(sid, pid), "so") == b"1"


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_fast_path_hands_over_what_it_cannot_answer(world, fast, monkeypatch):  # noqa: ANN001
    from zhunong.accounts.models import ApiToken
    from zhunong.catalog import services as catalog
    from zhunong.testing import make_user

    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    plain = world.listed_product(stock=5, price="12.00", cost_floor="5.00")
    room = world.live_room([product, plain], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=10, limit=5, price="29.90")
    sid, pid = room.stream.pk, product.pk
    django_calls = _spy(monkeypatch)
    buyer, quitter = make_user(), make_user()
    token, quitter_token = _token(buyer), _token(quitter)
    cold = make_user()
    raw_cold = "cold-token-value"
    ApiToken.objects.create(user=cold, key_hash=ApiToken.hash(raw_cold), prefix=raw_cold[:8])  # never cached

    async def batch_one() -> list:
        async with _client() as c:
            return [
                await c.post(**_buy("no-such-token", "x1", pid, sid)),  # refused by Django
                await c.post(**_buy(raw_cold, "x2", pid, sid)),  # looked up in the database, then fast
                await c.post(**_buy(token, "x3", plain.pk, sid)),  # no sale for it: Django prices it
                await c.post(**_buy(token, "x4", pid, sid, coupon_code="NOPE")),  # coupons are Django's
            ]

    unknown, cold_ok, no_sale, coupon = _run(batch_one())
    # docs/api.md: an unknown or revoked token is 401 not_authenticated (never the session's CSRF refusal).
    assert (unknown.status_code, unknown.json()["code"]) == (401, "not_authenticated")
    assert cold_ok.status_code == 201 and cold_ok.json()["lines"][0]["flash_sale_id"] == sale.pk
    assert no_sale.status_code == 201 and no_sale.json()["lines"][0]["flash_sale_id"] is None
    assert coupon.status_code == 404 and coupon.json()["code"] == "coupon_not_found"
    assert len(django_calls) == 3

    # A revoked token and a deactivated user are forgotten at once, not when the cache expires.
    ApiToken.objects.filter(user=buyer).delete()
    quitter.is_active = False
    quitter.save()
    # The product leaves the shelf (the regulator delists it): its sale record goes, Django refuses.
    catalog.delist_product(actor=world.regulator, product=product, reason="抽检不合格")
    assert not hotsales._client().exists(hotsales.key(sid, pid))

    async def batch_two() -> list:
        async with _client() as c:
            return [await c.post(**_buy(token, "y1", pid, sid)), await c.post(**_buy(quitter_token, "y2", pid, sid)),
                    await c.post(**_buy(raw_cold, "y3", pid, sid))]

    revoked, inactive, delisted = _run(batch_two())
    assert (revoked.status_code, revoked.json()["code"]) == (401, "not_authenticated")
    assert (inactive.status_code, inactive.json()["code"]) == (401, "not_authenticated")
    assert delisted.status_code == 404 and delisted.json()["code"] == "product_unavailable"


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_many_buyers_at_once_never_oversell_and_twins_get_one_order(world, fast):  # noqa: ANN001
    from zhunong.bench.flash_sale_harness import make_buyers

    product = world.listed_product(stock=500, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=40, limit=2, price="29.90")
    ids, tokens = make_buyers(60, label="fp")
    sid, pid = room.stream.pk, product.pk

    async def rush() -> list:
        async with _client() as c:
            # Every buyer tries three times (one over their limit of 2), and sends one request twice at once.
            requests = [c.post(**_buy(t, f"k{n}", pid, sid)) for n in range(3) for t in tokens]
            requests += [c.post(**_buy(t, "k0", pid, sid)) for t in tokens]
            return await asyncio.gather(*requests)

    responses = _run(rush())
    assert {r.status_code for r in responses} <= {201, 409}
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    orders = Order.objects.filter(lines__flash_sale=sale)
    assert len(created) == orders.count() == 40  # every unit sold, none twice
    per_buyer = {}
    for order in orders:
        per_buyer[order.buyer_id] = per_buyer.get(order.buyer_id, 0) + 1
    assert max(per_buyer.values()) <= 2
    backend = inventory.get_backend("redis")
    assert backend.remaining(inventory.pool("sale", sale.pk)) == 0
    # A twin pair answered the same: both 201 with one order, or both the same refusal.
    by_key: dict = {}
    for request_no, response in enumerate(responses):
        if request_no < len(tokens) or request_no >= 3 * len(tokens):
            by_key.setdefault(tokens[request_no % len(tokens)], []).append(response)
    for pair in by_key.values():
        assert pair[0].status_code == pair[1].status_code and pair[0].json() == pair[1].json()
    # Reservations recorded = orders; nothing is left in Redis without a database record.
    assert not inventory.reconcile_redis(grace_seconds=0, dry_run=True).orphans_released


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_gives_the_stock_back_and_django_answers(world, fast, monkeypatch):  # noqa: ANN001
    from django.db import OperationalError

    from zhunong.testing import make_user

    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=5, limit=2, price="29.90")
    buyer = make_user()
    token = _token(buyer)
    failures = []

    def broken(items):  # noqa: ANN001, ANN202
        failures.append(len(items))
        raise OperationalError("the database went away")

    monkeypatch.setattr(fastpath, "_persist", broken)

    async def attempt() -> httpx.Response:
        async with _client() as c:
            return await c.post(**_buy(token, "k", product.pk, room.stream.pk))

    response = _run(attempt())
    assert failures == [1]
    # Django's path took over after the fast path undid its reservation: one order, stock counted once.
    assert response.status_code == 201
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert inventory.get_backend("redis").remaining(inventory.pool("sale", sale.pk)) == 4
    assert inventory.get_backend("redis").bought(inventory.pool("sale", sale.pk), buyer.pk) == 1


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_sale_records_follow_the_sale(world, fast, monkeypatch):  # noqa: ANN001
    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=5, limit=2, price="29.90", running=False)
    client = hotsales._client()
    name = hotsales.key(room.stream.pk, product.pk)
    record = client.hgetall(name)
    assert record[b"sid"] == str(sale.pk).encode() and record[b"so"] == b"0"
    assert float(record[b"st"]) == pytest.approx(sale.starts_at.timestamp())
    assert json.loads(record[b"d"])["price"] == "29.90"
    assert 0 < client.ttl(name) <= (sale.ends_at - timezone.now()).total_seconds() + 6

    # Not started yet: the fast path refuses as Django would.
    from zhunong.testing import make_user

    buyer = make_user()
    token = _token(buyer)

    async def attempt(key: str) -> httpx.Response:
        async with _client() as c:
            return await c.post(**_buy(token, key, product.pk, room.stream.pk))

    early = _run(attempt("early"))
    assert early.status_code == 409 and early.json()["code"] == "sale_not_started"
    assert early.json()["details"]["starts_at"] == sale.starts_at.isoformat()

    # The same key still being served elsewhere (its process holds the stock): wait, then say so.
    monkeypatch.setattr(fastpath, "WAIT_FOR_TWIN", 0.1)
    fp = idempotency.request_fingerprint(lines=[(product.pk, 1)], stream_id=room.stream.pk, coupon_code=None)
    client.set(idempotency.redis_key(buyer.pk, "busy"), f"P|{fp}", ex=60)
    busy = _run(attempt("busy"))
    assert busy.status_code == 409 and busy.json()["code"] == "request_in_progress"

    services.cancel_flash_sale(actor=room.host_user, sale=sale, reason="主播口误")
    assert not client.exists(name)
    # Cancelled: no sale applies any more, so Django sells at the shelf price.
    after = _run(attempt("after-cancel"))
    assert after.status_code == 201 and after.json()["lines"][0]["unit_price"] == "39.90"

    # A sale past its end: the record is gone too, whatever the database's status says.
    sale2 = start_sale(room, product, quantity=5, limit=2, price="29.90")
    FlashSale.objects.filter(pk=sale2.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert not hotsales.refresh(room.stream.pk, product.pk)
    assert not client.exists(name)
