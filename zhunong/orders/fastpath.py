"""The purchase fast path: `POST /api/v1/orders` for a running flash sale, answered in front of Django.

During a flash sale almost every attempt is refused (sold out, over the limit) and the rest all want the
same row. Through Django's request cycle each attempt costs milliseconds of CPU (middleware, the ORM
looking up the token and the idempotency record, pricing), which caps a 2-core machine at about a hundred
attempts per second (docs/benchmarks.md). Here an attempt costs one Lua script on Redis:

1. parse the request strictly; anything that is not a plain one-line purchase with a bearer token and an
   Idempotency-Key (a coupon, several lines, a session cookie, a malformed body, an unknown host) goes to
   Django untouched, which is always right and gives every error its usual answer;
2. one script (`_ATTEMPT`) resolves the token (accounts/tokencache.py), replays a remembered outcome of
   the key (orders/idempotency.py), reads the sale's record (orders/hotsales.py) and, all or nothing,
   takes stock and the buyer's limit and records the reservation with the Redis inventory backend's own
   Lua function (`inventory.TAKE_AND_RECORD`) — so `reconcile_redis()` recovers a reservation whose
   process died before the database heard of it;
3. refusals are answered at once; the few successes are written to the database in batches (one
   transaction per batch, on one thread per process) by `purchase.write_purchases`, the function Django's
   path writes its orders with, and each buyer gets the 201 with the real order once its batch has
   committed. Room events go out after that commit, as everywhere else.

Tokens the script does not know are looked up in the database in batches too, then cached. A request that
comes here and finds no sale record (no sale running, Redis restarted, the product just changed) is handed
to Django. Set ZHUNONG_ORDERS_FAST_PATH=0 to send everything to Django.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.http.request import split_domain_port, validate_host

from zhunong.accounts import tokencache
from zhunong.core import redis as core_redis
from zhunong.core.errors import DomainError
from zhunong.core.resp import RedisReplyError

from . import hotsales, idempotency, inventory, pricing, purchase
from .errors import IdempotencyKeyReused, RequestInProgress
from .models import IdempotencyRecord
from .selectors import order_json

log = logging.getLogger(__name__)
abuse_log = logging.getLogger("zhunong.abuse")

PATH = "/api/v1/orders"
MAX_BODY = 16 * 1024
ID_MAX = 2**53
BATCH_MAX = 256
PENDING_TTL = 60  # seconds a key stays "in flight" if its process dies before answering
WAIT_FOR_TWIN = 10.0  # seconds a concurrent request with the same key waits for the first one's outcome

# KEYS: token cache key, sale record key, reservations hash.
# ARGV: idempotency key prefix, idempotency key, request fingerprint, quantity, now (epoch s), reservation
#       token, inventory key prefix, seconds the in-flight marker lives, seconds a refusal is remembered.
# Returns {status, buyer, ...}: 1 unknown token; 2 no fast path for this (ask Django); 3 replay (record);
# 4 key reused with another body; 5 same key in flight; -1 refused (record); 0 reserved (remaining, sale
# id, sale record's "d", per-buyer limit).
# Keys derived from the buyer and the sale are built inside the script (one Redis, not a cluster), as the
# inventory backend's scripts do. Stock is taken and the reservation recorded by the Redis backend's own
# take_and_record (inventory.TAKE_AND_RECORD).
_ATTEMPT = inventory.TAKE_AND_RECORD + """
local buyer = redis.call('GET', KEYS[1])
if not buyer then return {1} end
local idem = ARGV[1] .. buyer .. ':' .. ARGV[2]
local rec = redis.call('GET', idem)
if rec then
  if string.sub(rec, 3, 66) ~= ARGV[3] then return {4, buyer} end
  if string.sub(rec, 1, 1) == 'P' then return {5, buyer} end
  return {3, buyer, rec}
end
local hot = redis.call('HMGET', KEYS[2], 'sid', 'st', 'en', 'lim', 'so', 'pid', 'sti', 'd')
if not hot[1] then return {2, buyer} end
local now = tonumber(ARGV[5])
if now >= tonumber(hot[3]) then return {2, buyer} end
local sid, pid, lim = hot[1], hot[6], tonumber(hot[4])
local pool = 'sale:' .. sid
local q = tonumber(ARGV[4])
local fail = nil
if now < tonumber(hot[2]) then
  fail = 'sale_not_started|{"product_id": ' .. pid .. ', "flash_sale_id": ' .. sid .. ', "starts_at": "' .. hot[7] .. '"}'
elseif hot[5] == '1' then
  fail = 'sold_out|{"product_id": ' .. pid .. ', "flash_sale_id": ' .. sid .. '}'
else
  local r = take_and_record(KEYS[3], ARGV[7], ARGV[6], buyer, now, {{pool, q, lim}})
  if r[1] == -3 then return {2, buyer} end
  if r[1] == -2 then
    fail = 'limit_exceeded|{"pool": "' .. pool .. '", "limit": ' .. lim .. ', "bought": ' .. r[3] .. '}'
  elseif r[1] == -1 then
    fail = 'sold_out|{"pool": "' .. pool .. '"}'
  else
    redis.call('SET', idem, 'P|' .. ARGV[3], 'EX', tonumber(ARGV[8]))
    return {0, buyer, r[2], sid, hot[8], lim}
  end
end
rec = 'F|' .. ARGV[3] .. '|' .. fail
redis.call('SET', idem, rec, 'EX', tonumber(ARGV[9]))
return {-1, buyer, rec}
"""

# Of the headers Django's security middleware adds, the one that matters for a JSON body (the others are
# about framing and navigating pages); each header costs the server two regex checks per response.
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff")]


class Fallthrough(Exception):  # noqa: N818 - not an error: "let Django answer this one"
    pass


@dataclass(frozen=True)
class Attempt:
    token_hash: str
    key: str
    stream_id: int
    product_id: int
    quantity: int
    fingerprint: str


@dataclass
class Reserved:
    """A reservation the script made, on its way into the database."""

    buyer_id: int
    key: str
    fingerprint: str
    token: str
    sale_id: int
    stream_id: int
    product_id: int
    quantity: int
    remaining: int
    limit: int
    price: Decimal
    producer_id: int


# ---------------------------------------------------------------------------------------------------
# parsing: strict, and anything unusual is Django's


_host_ok: dict[str, bool] = {}


def _valid_host(raw: bytes) -> bool:
    """Django's own ALLOWED_HOSTS check, remembered per Host header value (there are a handful)."""
    known = _host_ok.get(raw)
    if known is None:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]
        host, _port = split_domain_port(raw.decode("latin-1"))
        known = bool(host) and validate_host(host, hosts)
        if len(_host_ok) < 256:
            _host_ok[raw] = known
    return known


def parse(scope: dict, body: bytes) -> Attempt:
    """The attempt, or Fallthrough."""
    headers = dict(scope["headers"])  # ASGI servers lowercase header names
    if len(headers) != len(scope["headers"]):  # a repeated header: unusual, let Django decide
        raise Fallthrough
    if not _valid_host(headers.get(b"host", b"")):
        raise Fallthrough
    scheme, _, raw_token = headers.get(b"authorization", b"").partition(b" ")
    if scheme.lower() != b"bearer" or not 0 < len(raw_token) <= 200:
        raise Fallthrough
    try:
        key = purchase.clean_key(headers.get(b"idempotency-key", b"").decode("latin-1"))
        data = json.loads(body)
    except Exception:
        raise Fallthrough
    if type(data) is not dict or not data.keys() <= {"lines", "stream_id", "coupon_code"} \
            or data.get("coupon_code") is not None:
        raise Fallthrough
    stream_id, lines = data.get("stream_id"), data.get("lines")
    if type(stream_id) is not int or not 1 <= stream_id <= ID_MAX:
        raise Fallthrough
    if type(lines) is not list or len(lines) != 1 or type(lines[0]) is not dict \
            or lines[0].keys() != {"product_id", "quantity"}:
        raise Fallthrough
    product_id, quantity = lines[0]["product_id"], lines[0]["quantity"]
    if type(product_id) is not int or not 1 <= product_id <= ID_MAX \
            or type(quantity) is not int or not 1 <= quantity <= purchase.MAX_QUANTITY:
        raise Fallthrough
    return Attempt(token_hash=hashlib.sha256(raw_token).hexdigest(), key=key, stream_id=stream_id,
                   product_id=product_id, quantity=quantity,
                   fingerprint=idempotency.request_fingerprint(lines=[(product_id, quantity)], stream_id=stream_id,
                                                               coupon_code=None))


# ---------------------------------------------------------------------------------------------------
# batching the database work: one thread per process, one transaction per batch


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="orders-fastpath")


class MicroBatcher:
    """Collects items submitted while the previous batch runs; `fn(items) -> results` runs on the executor.

    A result that is an exception is raised to that item's submitter only.
    """

    def __init__(self, fn: Callable[[list], list], *, max_size: int = BATCH_MAX) -> None:
        self.fn = fn
        self.max_size = max_size
        self._pending: list[tuple[Any, asyncio.Future]] = []
        self._running = False

    async def submit(self, item: Any) -> Any:  # noqa: ANN401
        return await self.enqueue(item)

    def enqueue(self, item: Any) -> asyncio.Future:  # noqa: ANN401
        """The future of `item`'s result; it is settled by the batch whether or not anyone still awaits it
        (await it through asyncio.shield to keep it so when the awaiting task is cancelled)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # requests parsed in this same turn of the loop join the first batch
            while self._pending:
                batch, self._pending = self._pending[:self.max_size], self._pending[self.max_size:]
                try:
                    # Through asgiref with our own executor: room events sent from that thread run on this
                    # loop's channel layer connection (async_to_sync finds the loop).
                    results = await sync_to_async(self.fn, thread_sensitive=False,
                                                  executor=_executor())([item for item, _ in batch])
                except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
                    results = [exc] * len(batch)
                for (_item, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._running = False


# ---------------------------------------------------------------------------------------------------
# the database side (runs on the executor thread)


def _persist_batch(items: list[Reserved]) -> list[bytes | BaseException]:
    # As Django does around a request: a connection past CONN_MAX_AGE (0 by default) or broken is closed
    # (with DB_POOL_SIZE it goes back to the pool), so this thread holds none between batches.
    close_old_connections()
    try:
        return list(_write(items))
    except IntegrityError:
        # Most likely one key was also used through Django meanwhile, or two order numbers collided: one by
        # one, so only that order is affected.
        out: list[bytes | BaseException] = []
        for item in items:
            try:
                out.extend(_write([item]))
            except (DatabaseError, ValueError) as exc:
                out.append(exc)
        return out
    finally:
        close_old_connections()


def _write(items: list[Reserved]) -> list[bytes]:
    """One transaction for `items`. Once it has committed, its orders stand: an error raised out of
    `atomic()` by a later commit hook is logged and counted, and the 201 bodies are returned all the same
    (each reservation is given back only when the database shows its order does not exist)."""
    committed = inventory.CommitFlag()
    bodies: list[bytes] = []
    try:
        with transaction.atomic():
            transaction.on_commit(committed.set)  # the first hook: runs even if a later one raises
            bodies = _persist(items)
    except Exception as exc:
        if not committed:
            raise
        inventory.count_post_commit_failure("fast path batch", exc)
    return bodies


def _persist(items: list[Reserved]) -> list[bytes]:
    """Write the orders of `items` as Django's path does (purchase.write_purchases), in one go; the 201
    bodies, byte for byte what JsonResponse would send."""
    orders = purchase.write_purchases(purchases=[_purchase(item) for item in items])
    return [order_json(order.first_response) for order in orders]


def _purchase(item: Reserved) -> purchase.Purchase:
    pool = inventory.pool("sale", item.sale_id)
    line = purchase.LineDraft(product_id=item.product_id, producer_id=item.producer_id, quantity=item.quantity,
                              unit_price=item.price, line_total=pricing.round_money(item.price * item.quantity),
                              sale_id=item.sale_id)
    return purchase.Purchase(buyer_id=item.buyer_id, key=item.key, fingerprint=item.fingerprint, token=item.token,
                             backend="redis", stream_id=item.stream_id, lines=[line],
                             takes=(inventory.Take(pool, item.quantity, item.limit),),
                             remaining={pool: item.remaining})


def _recorded_response(buyer_id: int, key: str) -> tuple[str, bytes] | None:
    """The database's record of an order created with this key: (fingerprint, 201 body) or None."""
    close_old_connections()
    try:
        row = IdempotencyRecord.objects.filter(buyer_id=buyer_id, key=key).values_list(
            "request_hash", "response").first()
    finally:
        close_old_connections()
    if row is None:
        return None
    return row[0], order_json(row[1])


def _recorded(token: str) -> bool | None:
    close_old_connections()
    try:
        return inventory.reservation_recorded(token)
    finally:
        close_old_connections()


def _lookup_tokens(hashes: list[str]) -> list[int | None]:
    close_old_connections()
    try:
        found = tokencache.lookup(sorted(set(hashes)))
    finally:
        close_old_connections()
    return [found.get(h) for h in hashes]


# ---------------------------------------------------------------------------------------------------
# the ASGI side


class PurchaseFastPath:
    """ASGI middleware: serves the fast path, hands everything else to `app` (Django)."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH \
                or not hotsales.enabled():
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if complete is None:
            return  # the client is gone
        replay = _replaying(body, receive, complete=complete)
        if not complete:
            await self.app(scope, replay, send)
            return
        try:
            status, payload, headers = await self.attempt(scope, body)
        except Fallthrough:
            await self.app(scope, replay, send)
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()), *_SECURITY_HEADERS, *headers]})
        await send({"type": "http.response.body", "body": payload})

    def _state(self) -> dict:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            inventory.get_backend("redis")  # refuses a Redis that may evict keys (core/redis.py)
            client = core_redis.pipelined()
            state = {"redis": client, "attempt": client.register(_ATTEMPT),
                     "release": client.register(inventory.RESOLVE_SCRIPT),
                     "orders": MicroBatcher(_persist_batch), "tokens": MicroBatcher(_lookup_tokens),
                     "token_prefix": secrets.token_hex(8), "counter": itertools.count(),
                     # Key names from their owners (core/redis.py names the namespaces), built once per loop.
                     "tok": tokencache.key_prefix(), "idem": idempotency.redis_prefix(),
                     "inv": inventory.redis_prefix(), "hot": hotsales.key_prefix(),
                     "reservations": inventory.reservations_key()}
            self._loops[loop] = state
        return state

    async def attempt(self, scope: dict, body: bytes) -> tuple[int, bytes, list]:
        attempt = parse(scope, body)
        state = self._state()
        client = state["redis"]
        keys = [state["tok"] + attempt.token_hash, f"{state['hot']}{attempt.stream_id}:{attempt.product_id}",
                state["reservations"]]
        try:
            for _try in range(2):
                # Unique without a syscall per attempt: a random per-process prefix and a counter.
                token = f"{state['token_prefix']}{next(state['counter']):016x}"
                result = await client.evalsha(state["attempt"], keys, [
                    state["idem"], attempt.key, attempt.fingerprint, attempt.quantity, time.time(),
                    token, state["inv"], PENDING_TTL, idempotency.TTL_SECONDS])
                if int(result[0]) != 1:
                    break
                if await state["tokens"].submit(attempt.token_hash) is None:
                    raise Fallthrough  # not a valid token: Django answers 401
            else:
                raise Fallthrough
            code = int(result[0])
            if code == 0:
                return await self._reserved(state, attempt, result, token)
            if code == -1:
                return _answer(idempotency.parse(result[2]), replayed=False)
            if code == 3:
                return _answer(idempotency.parse(result[2]), replayed=True)
            if code == 4:
                abuse_log.info("idempotency key reused with another body by buyer %s", int(result[1]))
                return _error(IdempotencyKeyReused)
            if code == 5:
                return await self._await_twin(state, int(result[1]), attempt)
            raise Fallthrough  # 2: no sale record, or it ended: Django decides
        except (OSError, TimeoutError, RedisReplyError):  # ConnectionError is an OSError
            log.warning("purchase fast path: Redis failed, handing the request to Django", exc_info=True)
            raise Fallthrough

    async def _reserved(self, state: dict, attempt: Attempt, result: list, token: str) -> tuple[int, bytes, list]:
        buyer_id = int(result[1])
        details = json.loads(result[4])
        item = Reserved(buyer_id=buyer_id, key=attempt.key, fingerprint=attempt.fingerprint, token=token,
                        sale_id=int(result[3]), stream_id=attempt.stream_id, product_id=attempt.product_id,
                        quantity=attempt.quantity, remaining=int(result[2]), limit=int(result[5]),
                        price=Decimal(details["price"]),
                        producer_id=int(details["producer_id"]))
        idem_key = idempotency.redis_key(buyer_id, attempt.key)
        written = state["orders"].enqueue(item)
        try:
            # Shielded: if this request's task is cancelled (the client went away, the server stops), the
            # batch still decides, and _after_abandoned settles the reservation by its outcome.
            body = await asyncio.shield(written)
        except asyncio.CancelledError:
            _keep(asyncio.get_running_loop().create_task(
                _after_abandoned(state, written, token, idem_key, attempt.fingerprint)))
            raise
        except Exception:
            # Not written: give the stock back (unless the database shows the order after all) and clear
            # the in-flight mark, then let Django answer (it replays the order if the key was in fact used
            # through Django meanwhile).
            log.warning("purchase fast path: order for reservation %s not written; handing over to Django",
                        token, exc_info=True)
            await _undo_unless_recorded(state, token, idem_key)
            raise Fallthrough
        await _remember_success(state, idem_key, attempt.fingerprint, body)
        return 201, body, []

    async def _await_twin(self, state: dict, buyer_id: int, attempt: Attempt) -> tuple[int, bytes, list]:
        """The same key is being served right now (a double-click, a client retry): wait for its outcome."""
        idem_key = idempotency.redis_key(buyer_id, attempt.key)
        deadline = time.monotonic() + WAIT_FOR_TWIN
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            record = idempotency.parse(await state["redis"].execute("GET", idem_key))
            if record is None:
                raise Fallthrough  # the first one gave up: Django decides from the database
            if record.fingerprint != attempt.fingerprint:
                return _error(IdempotencyKeyReused)
            if record.kind != "P":
                return _answer(record, replayed=True)
        # Still "in flight": its process may have died after committing the order but before saying so in
        # Redis. The database is the truth for created orders.
        recorded = await sync_to_async(_recorded_response, thread_sensitive=False, executor=_executor())(
            buyer_id, attempt.key)
        if recorded is None:
            return _error(RequestInProgress)
        fingerprint, body = recorded
        if fingerprint != attempt.fingerprint:
            return _error(IdempotencyKeyReused)
        await state["redis"].execute("SET", idem_key, idempotency.success(fingerprint, body),
                                     "EX", idempotency.TTL_SECONDS)
        return 201, body, [(b"idempotent-replayed", b"true")]


def _answer(record: idempotency.Record | None, *, replayed: bool) -> tuple[int, bytes, list]:
    if record is None or record.kind == "P":
        raise Fallthrough
    if record.kind == "S":
        return 201, record.body, ([(b"idempotent-replayed", b"true")] if replayed else [])
    # Refusals replay like services._replay does: the same error again, no replay header.
    return 409, json.dumps(record.error_body()).encode(), []


def _error(error: type[DomainError]) -> tuple[int, bytes, list]:
    return error.status, json.dumps(error().as_dict()).encode(), []


_BACKGROUND: set[asyncio.Task] = set()


def _keep(task: asyncio.Task) -> None:
    """Hold a reference to a background task until it is done (the loop keeps only weak ones)."""
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def _remember_success(state: dict, idem_key: str, fingerprint: str, body: bytes) -> None:
    try:
        await state["redis"].execute("SET", idem_key, idempotency.success(fingerprint, body),
                                     "EX", idempotency.TTL_SECONDS)
    except Exception:  # noqa: BLE001 - the order is committed; a retry replays it from the database
        log.warning("purchase fast path: could not remember the outcome of %s", idem_key, exc_info=True)


async def _after_abandoned(state: dict, written: asyncio.Future, token: str, idem_key: str,
                           fingerprint: str) -> None:
    """The request waiting for `written` was cancelled: act on the batch's outcome as it would have."""
    try:
        body = await written
    except Exception:  # noqa: BLE001 - not written
        await _undo_unless_recorded(state, token, idem_key)
        return
    await _remember_success(state, idem_key, fingerprint, body)


async def _undo_unless_recorded(state: dict, token: str, idem_key: str) -> None:
    """Give the reservation back only when the database shows its order does not exist; when it cannot
    tell, leave it to reconcile_redis() (which releases it after its grace period if it was never
    recorded) and let the in-flight mark expire by itself."""
    recorded = await sync_to_async(_recorded, thread_sensitive=False, executor=_executor())(token)
    if recorded is False:
        await _undo(state, token, idem_key)
    elif recorded:
        log.error("purchase fast path: reservation %s is recorded although its batch failed: kept", token)


async def _undo(state: dict, token: str, idem_key: str) -> None:
    """Give the reservation's stock back (the Redis backend's own release script), then clear the key's
    in-flight mark; if this dies in between, the mark expires by itself."""
    try:
        await state["redis"].evalsha(state["release"], [state["reservations"]], [token, state["inv"], "release"])
        await state["redis"].execute("DEL", idem_key)
    except Exception:  # reconcile_redis() releases the orphan after its grace period
        log.exception("could not undo fast-path reservation %s", token)


async def _read_body(receive: Callable) -> tuple[bytes, bool | None]:
    """The whole body and True; what was read and False when it is larger than the fast path takes; or
    None for `complete` when the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _replaying(body: bytes, receive: Callable, *, complete: bool) -> Callable:
    """A `receive` for Django that first hands over what the fast path already read."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
