"""A committed order keeps its units whatever fails after the commit (docs/reliability.md).

Post-commit steps (stock frames through the cache, `sync_sale`) may raise; Django raises such an error out
of `atomic()` after the commit. Neither purchase path may then give the reservation back, answer an error,
or undo the other orders of a fast-path batch; a cancelled request task may not undo its committed order.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from zhunong.orders import fastpath, flashsales, inventory, services
from zhunong.orders.models import FlashSale, InventoryReservation, Order, ReservationState
from zhunong.testing import make_user, start_sale


def _break_stock_frames(monkeypatch) -> list:  # noqa: ANN001
    calls: list = []

    def broken(sale, remaining, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(sale.pk)
        raise ConnectionError("the cache's Redis is unreachable")

    monkeypatch.setattr(flashsales, "_stock_frame", broken)
    return calls


def _sale(world, quantity: int = 5):  # noqa: ANN001, ANN202
    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=quantity, limit=2, price="29.90")
    return product, room, sale


@pytest.mark.django_db(transaction=True)
def test_a_failing_stock_frame_after_commit_keeps_the_order_and_its_units(world, settings, monkeypatch):  # noqa: ANN001
    settings.INVENTORY_BACKEND = "db"
    product, room, sale = _sale(world)
    calls = _break_stock_frames(monkeypatch)
    buyer = make_user()
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                  stream=room.stream, idempotency_key="k")
    assert calls == [sale.pk]  # the step did run, and did fail
    assert Order.objects.filter(pk=order.pk).exists()
    assert InventoryReservation.objects.get(token=order.reservation_token).state == ReservationState.HELD
    assert FlashSale.objects.get(pk=sale.pk).remaining == 4


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_redis_backend_keeps_the_reservation_of_a_committed_order(world, settings, monkeypatch):  # noqa: ANN001
    settings.INVENTORY_BACKEND = "redis"
    product, room, sale = _sale(world)
    _break_stock_frames(monkeypatch)
    buyer = make_user()
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  stream=room.stream, idempotency_key="k")
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    assert Order.objects.filter(pk=order.pk).exists()
    assert backend.remaining(pool) == 3 and backend.bought(pool, buyer.pk) == 2
    assert order.reservation_token in backend.pending_tokens()


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_order_still_gives_its_reservation_back(world, settings, monkeypatch):  # noqa: ANN001
    from zhunong.orders import purchase

    settings.INVENTORY_BACKEND = "redis"
    product, room, sale = _sale(world)
    buyer = make_user()

    def broken(**kwargs):  # noqa: ANN003, ANN202
        raise RuntimeError("failed before the commit")

    monkeypatch.setattr(services, "write_purchases", broken)
    with pytest.raises(RuntimeError):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="k")
    assert purchase  # the real writer is untouched
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    assert not Order.objects.exists()
    assert backend.remaining(pool) == 5 and backend.bought(pool, buyer.pk) == 0
    assert backend.pending_tokens() == {}


# ---------------------------------------------------------------------------------------------------
# the fast path


def _token(user) -> str:  # noqa: ANN001
    from django.utils import timezone

    from zhunong.accounts.models import ApiToken
    from zhunong.accounts.tokencache import remember

    raw = f"tok-{user.pk}-{timezone.now().timestamp()}"
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    remember({token.key_hash: user.pk})
    return raw


def _request(token: str, key: str, product_id: int, stream_id: int) -> tuple[dict, bytes]:
    scope = {"type": "http", "method": "POST", "path": fastpath.PATH, "headers": [
        (b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()),
        (b"idempotency-key", key.encode())]}
    body = json.dumps({"lines": [{"product_id": product_id, "quantity": 1}], "stream_id": stream_id}).encode()
    return scope, body


@pytest.fixture
def fast(settings):  # noqa: ANN001, ANN201
    settings.INVENTORY_BACKEND = "redis"
    settings.ORDERS_FAST_PATH = True
    return settings


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_fast_path_batch_keeps_every_committed_order_when_a_step_after_commit_fails(world, fast, monkeypatch):  # noqa: ANN001
    product, room, sale = _sale(world, quantity=10)
    buyers = [make_user() for _ in range(4)]
    tokens = [_token(b) for b in buyers]
    _break_stock_frames(monkeypatch)
    path = fastpath.PurchaseFastPath(app=None)  # type: ignore[arg-type]

    async def all_at_once() -> list:
        return await asyncio.gather(*(path.attempt(*_request(t, f"k{i}", product.pk, room.stream.pk))
                                      for i, t in enumerate(tokens)))

    answers = asyncio.run(all_at_once())
    assert [status for status, _, _ in answers] == [201] * 4
    assert Order.objects.count() == 4
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    assert backend.remaining(pool) == 6
    assert len(backend.pending_tokens()) == 4


@pytest.mark.postgres_redis
@pytest.mark.django_db(transaction=True)
def test_a_cancelled_request_does_not_undo_its_committed_order(world, fast, monkeypatch):  # noqa: ANN001
    product, room, sale = _sale(world)
    buyer = make_user()
    token = _token(buyer)
    writing = threading.Event()
    real = fastpath._persist

    def slow(items):  # noqa: ANN001, ANN202
        writing.set()
        time.sleep(0.3)
        return real(items)

    monkeypatch.setattr(fastpath, "_persist", slow)
    path = fastpath.PurchaseFastPath(app=None)  # type: ignore[arg-type]

    async def cancel_midway() -> None:
        task = asyncio.get_running_loop().create_task(path.attempt(*_request(token, "k", product.pk,
                                                                             room.stream.pk)))
        while not writing.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.wait([task])
        assert task.cancelled()
        await asyncio.sleep(1.0)  # the batch commits meanwhile; nothing may undo it afterwards

    asyncio.run(cancel_midway())
    order = Order.objects.get(buyer=buyer)
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    assert backend.remaining(pool) == 4 and backend.bought(pool, buyer.pk) == 1
    assert order.reservation_token in backend.pending_tokens()
