"""The fault-injection suite's shared parts (test_faults*.py; docs/reliability.md "Fault-injection suite").

A running flash sale with many buyers who hold bearer tokens (`flash_sale`), concurrent purchases through
the real ASGI application — the purchase fast path in front of Django when Redis is there, Django's API
otherwise — (`buy_concurrently`), the platform's own recovery sweeps (`recover`), and the one invariant
every fault test ends with (`assert_invariant`):

1. sold + remaining == the sale's quantity (and product stock + sale + live orders == what was put up);
2. every 201 a buyer was answered is an order in the database, the same order for the same key;
3. no order without stock: every live order holds its reservation, every held reservation is held in
   the inventory backend too (so cancelling it gives its units back), and nothing is held for no order;
4. no buyer over the per-buyer limit, and the backend counts each buyer as the database does;
5. every paid order's money is in the producers' ledger exactly once, and money that could not pay an
   order goes back exactly once (an unapplied refund), never into the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from django.conf import settings
from django.db.models import Sum

from zhunong.accounts.models import ApiToken, User
from zhunong.accounts.tokencache import remember
from zhunong.catalog.models import Product
from zhunong.orders import flashsales, inventory
from zhunong.orders.models import (
    FlashSale,
    IdempotencyRecord,
    InventoryReservation,
    OrderLine,
    OrderStatus,
    ReservationItem,
    ReservationState,
)
from zhunong.payments.models import LedgerEntry, PaymentSession, Refund
from zhunong.testing import World, make_user, start_sale

log = logging.getLogger(__name__)

URL = "/api/v1/orders"


@dataclass
class SaleUnderFault:
    product: Product
    sale: FlashSale
    stream_id: int
    put_up: int  # the product's stock before the sale took its quantity
    buyers: list[tuple[User, str]] = field(default_factory=list)  # (user, raw bearer token)

    @property
    def pool(self) -> str:
        return inventory.pool("sale", self.sale.pk)


@dataclass(frozen=True)
class Answer:
    buyer_id: int
    key: str
    status: int  # 0: no answer at all (the connection broke)
    body: dict | None


def new_token(user: User) -> str:
    """A bearer token for `user`, cached for the fast path as a login would (accounts.tokencache)."""
    raw = "flt-" + secrets.token_urlsafe(24)
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    remember({token.key_hash: user.pk})
    return raw


def flash_sale(world: World, *, quantity: int = 12, buyers: int = 10, limit: int = 2,
               product_stock: int = 40) -> SaleUnderFault:
    """A county-head's live room selling a running flash sale, and `buyers` buyers logged in for it."""
    product = world.listed_product(stock=product_stock, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=quantity, limit=limit, price="29.90", duration_minutes=20)
    people = [make_user() for _ in range(buyers)]
    return SaleUnderFault(product=product, sale=sale, stream_id=room.stream.pk, put_up=product_stock,
                          buyers=[(u, new_token(u)) for u in people])


def attempts(s: SaleUnderFault, *, per_buyer: int, tag: str) -> list[tuple[int, str]]:
    """(buyer index, Idempotency-Key): every buyer's first attempt, then every buyer's second, ..."""
    return [(i, f"{tag}-{i}-{j}") for j in range(per_buyer) for i in range(len(s.buyers))]


def asgi_client() -> httpx.AsyncClient:
    from zhunong.asgi import application

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver",
                             timeout=60)


def request(s: SaleUnderFault, index: int, key: str, quantity: int = 1) -> dict:
    _user, raw = s.buyers[index]
    return {"url": URL, "headers": {"Authorization": f"Bearer {raw}", "Idempotency-Key": key},
            "json": {"lines": [{"product_id": s.product.pk, "quantity": quantity}], "stream_id": s.stream_id}}


async def _one(client: httpx.AsyncClient, s: SaleUnderFault, index: int, key: str) -> Answer:
    try:
        response = await client.post(**request(s, index, key))
    except httpx.TransportError:  # the server process died under the request
        return Answer(buyer_id=s.buyers[index][0].pk, key=key, status=0, body=None)
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    return Answer(buyer_id=s.buyers[index][0].pk, key=key, status=response.status_code, body=body)


async def buy_async(s: SaleUnderFault, tries: list[tuple[int, str]], *,
                    fault: Callable[[], object] | None = None, after: int = 0,
                    base_url: str | None = None) -> list[Answer]:
    """Every attempt at once; with `fault`, it is injected once `after` answers have come back, while the
    others are on their way (in the event loop's thread; a coroutine fault lets them go on meanwhile).
    With `base_url`, through real HTTP to a server there (24 connections) instead of the ASGI application."""
    answered = 0

    async def one(client: httpx.AsyncClient, index: int, key: str) -> Answer:
        nonlocal answered
        try:
            return await _one(client, s, index, key)
        finally:
            answered += 1

    async def inject() -> None:
        while answered < after:
            await asyncio.sleep(0.001)
        done = fault()
        if asyncio.iscoroutine(done):  # a fault that lasts a while (the others go on meanwhile)
            await done

    client = asgi_client() if base_url is None else httpx.AsyncClient(
        base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=24, max_keepalive_connections=24))
    async with client:
        jobs = [one(client, i, k) for i, k in tries]
        if fault is not None:
            results = await asyncio.gather(inject(), *jobs)
            return list(results[1:])
        return list(await asyncio.gather(*jobs))


def buy_concurrently(s: SaleUnderFault, tries: list[tuple[int, str]], *, fault: Callable[[], object] | None = None,
                     after: int = 0, base_url: str | None = None) -> list[Answer]:
    """Every attempt at once through the ASGI application (one event loop; Django's sync part in its
    thread, the fast path's batches on theirs); `fault` and `base_url` as in buy_async."""
    return asyncio.run(buy_async(s, tries, fault=fault, after=after, base_url=base_url))


def recover() -> None:
    """What the platform's periodic sweeps do after a fault (orders.tasks: every minute): give back stock
    Redis holds for orders never recorded, replay lost releases, refresh the sales' mirrors and states."""
    if settings.INVENTORY_BACKEND == "redis":
        inventory.reconcile_redis(grace_seconds=0)
    flashsales.sync_sales()


def statuses(answers: list[Answer]) -> Counter:
    return Counter(a.status if a.status != 409 or a.body is None else a.body.get("code") for a in answers)


def assert_invariant(s: SaleUnderFault, answers: list[Answer], *, may_cancel: frozenset[int] = frozenset()) -> dict:
    """The suite's one check (module docstring); `may_cancel`: orders the test itself cancelled (or let
    expire), which may be answered 201 and be cancelled now. Returns the books for the test's own asserts."""
    sale = FlashSale.objects.get(pk=s.sale.pk)
    backend = inventory.get_backend(settings.INVENTORY_BACKEND)
    pool = s.pool
    lines = OrderLine.objects.filter(flash_sale=sale).select_related("order")
    orders = {line.order_id: line.order for line in lines}
    live = [line for line in lines if line.order.status != OrderStatus.CANCELLED]

    # 1. sold + remaining == stock; and the product's units are all somewhere
    sold = sum(line.quantity for line in live)
    remaining = backend.remaining(pool)
    assert sold + remaining == sale.quantity, {"sold": sold, "remaining": remaining, "quantity": sale.quantity}
    product = Product.objects.get(pk=s.product.pk)
    assert product.stock + sale.quantity == s.put_up, (product.stock, sale.quantity, s.put_up)
    if settings.INVENTORY_BACKEND == "redis":  # the database's mirror, refreshed by the sweep
        assert sale.remaining == remaining, (sale.remaining, remaining)
    assert (sale.status == "sold_out") == (remaining == 0), (sale.status, remaining)

    # 2. every 201 is an order in the database; one key, one order
    by_key: dict[tuple[int, str], int] = {}
    for a in answers:
        if a.status != 201:
            continue
        assert a.body is not None and a.body["id"] in orders, a
        order = orders[a.body["id"]]
        assert order.buyer_id == a.buyer_id
        assert order.status != OrderStatus.CANCELLED or order.pk in may_cancel, (order.pk, order.status)
        assert by_key.setdefault((a.buyer_id, a.key), order.pk) == order.pk, ("two orders for one key", a)
        assert IdempotencyRecord.objects.filter(buyer_id=a.buyer_id, key=a.key, order=order).exists(), a
    assert len(set(by_key.values())) == len(by_key), "two keys answered with one order"
    assert Counter(IdempotencyRecord.objects.filter(order__in=list(orders)).values_list("order_id", flat=True)) \
        == Counter(dict.fromkeys(orders, 1)), "an order without exactly one idempotency record"
    for order in orders.values():
        assert order.status in (OrderStatus.RESERVED, OrderStatus.PAID, OrderStatus.CANCELLED) \
            and (order.status != OrderStatus.CANCELLED or order.pk in may_cancel), (order.pk, order.status)

    # 3. no order without stock, no stock held for no order
    tokens = {order.reservation_token: order for order in orders.values()}
    states = dict(InventoryReservation.objects.filter(token__in=list(tokens)).values_list("token", "state"))
    for token, order in tokens.items():
        want = (ReservationState.RELEASED if order.status == OrderStatus.CANCELLED else
                ReservationState.COMMITTED if order.status == OrderStatus.PAID else ReservationState.HELD)
        assert states.get(token) == want, (order.pk, order.status, states.get(token))
    items = ReservationItem.objects.filter(pool=pool)
    taken = items.filter(reservation__state__in=[ReservationState.HELD, ReservationState.COMMITTED])
    assert (taken.aggregate(n=Sum("quantity"))["n"] or 0) == sold, "a reservation that is no order's"
    held = set(items.filter(reservation__state=ReservationState.HELD).values_list("reservation__token", flat=True))
    if settings.INVENTORY_BACKEND == "redis":
        pending = {t: p for t, p in backend.pending_tokens().items() if any(i[0] == pool for i in p["i"])}
        assert set(pending) == held, {"only in redis": set(pending) - held, "only in the db": held - set(pending)}

    # 4. no buyer over the limit; the backend counts buyers as the database does
    per_buyer = Counter()
    for line in live:
        per_buyer[line.order.buyer_id] += line.quantity
    assert not per_buyer or max(per_buyer.values()) <= sale.per_buyer_limit, per_buyer
    for user, _raw in s.buyers:
        assert backend.bought(pool, user.pk) == per_buyer.get(user.pk, 0), (user.pk, per_buyer.get(user.pk, 0))

    # 5. the money: every paid order's lines in the ledger exactly once; unapplied money back exactly once
    for order in orders.values():
        sales = LedgerEntry.objects.filter(order_line__order=order, kind=LedgerEntry.Kind.SALE)
        if order.status == OrderStatus.PAID:
            assert sorted(sales.values_list("order_line_id", "amount")) == sorted(
                (line.pk, line.paid_amount) for line in order.lines.all()), order.pk
        else:
            assert not sales.exists(), order.pk
    sessions = PaymentSession.objects.filter(order__in=list(orders), status=PaymentSession.Status.PAID)
    for session in sessions:
        order = orders[session.order_id]
        refunds = Refund.objects.filter(payment_ref=session.payment_ref, unapplied=True)
        if order.payment_ref == session.payment_ref:
            assert not refunds.exists(), session.payment_ref
        else:  # captured, but the order could not take it: back to the payer once, nothing to producers
            assert [r.amount for r in refunds] == [session.amount], (session.payment_ref, list(refunds))
            assert not LedgerEntry.objects.filter(refund__in=refunds).exists()
    ledger = LedgerEntry.objects.filter(order_line__flash_sale=sale).aggregate(n=Sum("amount"))["n"] or Decimal(0)
    paid = sum((line.paid_amount for line in live if line.order.status == OrderStatus.PAID), Decimal(0))
    assert ledger == paid, (ledger, paid)
    books = {"sold": sold, "remaining": remaining, "orders": len(orders), "per_buyer": per_buyer,
             "paid_sessions": sessions.count()}
    # What the buyers saw, in the test's log (pytest -rP shows it): docs/reliability.md quotes these runs.
    log.warning("fault suite: answers %s; sold %s, remaining %s of %s; %s orders", dict(statuses(answers)), sold,
                remaining, sale.quantity, len(orders))
    return books
