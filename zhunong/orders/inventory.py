"""The inventory engine: one interface, three backends chosen by `settings.INVENTORY_BACKEND`.

Stock lives in *pools*: `product:<id>` (catalog Product.stock), `sale:<id>` (a flash sale's carve-out) and
`coupon:<id>` (an in-room coupon's claims). A reservation takes quantities from several pools at once
under one token, all or nothing, and respects a per-buyer limit on limited pools (限购, one coupon each).

- `db`: conditional UPDATEs (`... SET remaining = remaining - q WHERE remaining >= q`) inside the order's
  transaction. Correct on SQLite and PostgreSQL; the embedded default.
- `redis`: flash-sale and coupon pools are counters in Redis, taken by one atomic Lua script, so sold-out
  attempts never touch the database; product pools still use the database. The script runs *before* the
  order's transaction; if that transaction fails the reservation is undone, and if the process dies in
  between, `reconcile_redis()` finds the orphan token and releases it. The default when REDIS_URL is set.
- `naive`: SELECT ... FOR UPDATE of the pool row, check in Python, save. Deliberately simple; kept as the
  benchmark baseline and as a correctness cross-check.

Every backend records the reservation in the database (InventoryReservation + ReservationItem) in the
order's transaction; release and commit flip its `state` with a conditional update, so stock returns at
most once whichever of cancel, expiry or reconciliation gets there first.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.models import Product
from zhunong.core import redis

from .errors import InventoryUnavailable, LimitExceeded, SoldOut
from .models import BuyerCount, Coupon, FlashSale, InventoryReservation, ReservationItem, ReservationState

log = logging.getLogger(__name__)

BACKENDS = ("db", "redis", "naive")


@dataclass(frozen=True)
class Take:
    pool: str
    quantity: int
    limit: int | None = None  # per-buyer limit of this pool; None: unlimited

    @property
    def kind(self) -> str:
        return self.pool.split(":", 1)[0]

    @property
    def pool_id(self) -> int:
        return int(self.pool.split(":", 1)[1])


def pool(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def new_token() -> str:
    return uuid.uuid4().hex


def _sorted(takes: Iterable[Take]) -> list[Take]:
    # A fixed lock order across pools, so two multi-line orders cannot deadlock on PostgreSQL.
    return sorted(takes, key=lambda t: t.pool)


def _pool_table(kind: str) -> tuple[str, str]:
    if kind == "product":
        return Product._meta.db_table, "stock"
    if kind == "sale":
        return FlashSale._meta.db_table, "remaining"
    if kind == "coupon":
        return Coupon._meta.db_table, "remaining"
    raise ValueError(f"unknown pool kind {kind!r}")


def _pool_model(kind: str):  # noqa: ANN202
    return {"product": Product, "sale": FlashSale, "coupon": Coupon}[kind]


class InventoryBackend:
    """Base: the database record of reservations, shared by all backends."""

    name = "base"
    #: pools whose counters live outside the database (taken before the order's transaction)
    external_kinds: frozenset[str] = frozenset()

    # -- reservation: outside, then inside the caller's transaction ------------------------------
    def reserve_outside(self, *, token: str, buyer_id: int, takes: Sequence[Take]) -> dict[str, int]:
        """Take the external pools now (Redis); returns {pool: remaining}. Raises SoldOut/LimitExceeded."""
        return {}

    def undo_outside(self, *, token: str) -> None:
        """The transaction that was to record `token` failed: give back what reserve_outside took."""

    def reserve_inside(self, *, token: str, buyer_id: int, takes: Sequence[Take]) -> dict[str, int]:
        """Inside the caller's transaction: take the database pools and record the reservation."""
        remaining = self.take_inside(buyer_id=buyer_id, takes=takes)
        record_reservations(reservations=[Reservation(token=token, backend=self.name, buyer_id=buyer_id, takes=tuple(takes))])
        return remaining

    def take_inside(self, *, buyer_id: int, takes: Sequence[Take]) -> dict[str, int]:
        """Inside the caller's transaction: take the database pools (the caller records the reservation)."""
        remaining: dict[str, int] = {}
        for take in _sorted(t for t in takes if t.kind not in self.external_kinds):
            remaining[take.pool] = self._take_db(take, buyer_id)
        return remaining

    def _take_db(self, take: Take, buyer_id: int) -> int:
        # Each backend's own conditional update or row lock; the base has optional no-op hooks, so it is
        # not an ABC.
        raise NotImplementedError

    # -- resolution ------------------------------------------------------------------------------
    def release(self, *, token: str, reason: str) -> bool:
        """Return a held reservation's stock (cancel, expiry). Exactly once; False if not held."""
        reservation = self._resolve(token, ReservationState.RELEASED, reason)
        if reservation is None:
            return False
        for item in reservation.items.all():
            if item.pool.split(":", 1)[0] not in self.external_kinds:
                _give_back_db(item.pool, item.quantity, buyer_id=reservation.buyer_id, limited=item.limited)
        self._after_release(token)
        return True

    def commit(self, *, token: str) -> bool:
        """The reservation became a sale (paid, or a coupon claimed): keep the stock taken for good."""
        reservation = self._resolve(token, ReservationState.COMMITTED, "committed")
        if reservation is None:
            return False
        self._after_commit(token)
        return True

    def _resolve(self, token: str, state: str, reason: str) -> InventoryReservation | None:
        updated = InventoryReservation.objects.filter(token=token, state=ReservationState.HELD).update(
            state=state, reason=reason[:100], resolved_at=timezone.now())
        if not updated:
            return None
        return InventoryReservation.objects.get(token=token)

    def _after_release(self, token: str) -> None:
        pass

    def _after_commit(self, token: str) -> None:
        pass

    # -- pools -----------------------------------------------------------------------------------
    def load(self, *, pool: str, quantity: int) -> None:
        """A new sale or coupon pool with `quantity` units (its database row already says so)."""

    def remaining(self, pool: str) -> int:
        table, column = _pool_table(pool.split(":", 1)[0])
        model = _pool_model(pool.split(":", 1)[0])
        return model.objects.filter(pk=int(pool.split(":", 1)[1])).values_list(column, flat=True).first() or 0

    def bought(self, pool: str, buyer_id: int) -> int:
        return BuyerCount.objects.filter(pool=pool, buyer_id=buyer_id).values_list("quantity", flat=True).first() or 0

    def drain(self, *, pool: str) -> int:
        """Close a pool for good (a settled flash sale): set it to 0 and return what was left."""
        kind, pk = pool.split(":", 1)
        model = _pool_model(kind)
        _, column = _pool_table(kind)
        row = model.objects.select_for_update().get(pk=int(pk))
        left = getattr(row, column)
        model.objects.filter(pk=row.pk).update(**{column: 0})
        return left


# ---------------------------------------------------------------------------------------------------
# After the commit: a committed order keeps its reservation (docs/reliability.md)

#: post-commit steps of purchases that failed in this process, by where they ran (logged as well)
POST_COMMIT_FAILURES: dict[str, int] = {}


class CommitFlag:
    """Registered as the first commit hook of a purchase's transaction: true once the commit happened, even
    if a later hook raises out of `atomic()` (Django runs the hooks in order and stops at the first error)."""

    def __init__(self) -> None:
        self.committed = False

    def set(self) -> None:
        self.committed = True

    def __bool__(self) -> bool:
        return self.committed


def count_post_commit_failure(where: str, exc: BaseException) -> None:
    """A step after a purchase's commit failed: log and count it; the purchase itself stands."""
    POST_COMMIT_FAILURES[where] = POST_COMMIT_FAILURES.get(where, 0) + 1
    log.error("a step after the commit of a purchase failed (%s); the order stands", where,
              exc_info=(type(exc), exc, exc.__traceback__))


def after_commit_step(where: str, fn: Callable[[], object]) -> Callable[[], None]:
    """`fn` as a commit hook that never raises (logged and counted instead): side effects after a purchase's
    commit (stock frames, the sale's sell-out) must not fail the request or undo the order."""

    def run() -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the commit happened; see the docstring
            count_post_commit_failure(where, exc)

    return run


def reservation_recorded(token: str) -> bool | None:
    """Whether the database holds the reservation `token` (so its order exists): None if it cannot tell."""
    try:
        return InventoryReservation.objects.filter(token=token).exists()
    except Exception:  # noqa: BLE001 - a broken connection: we do not know
        log.exception("cannot tell whether reservation %s was recorded", token)
        return None


def give_back_unless_recorded(backend: InventoryBackend, *, token: str) -> bool:
    """The transaction meant to record `token` raised: give the external stock back only if the database
    shows the reservation (and so its order) does not exist. When it cannot tell, keep it: reconcile_redis()
    releases it after its grace period if the database never recorded it. True if given back."""
    if not backend.external_kinds:
        return False
    recorded = reservation_recorded(token)
    if recorded is None:
        return False
    if recorded:
        log.error("reservation %s is recorded although its transaction raised: kept", token)
        return False
    backend.undo_outside(token=token)
    return True


class ReservationsLost(Exception):  # noqa: N818 - a condition the purchase paths handle, not a bug
    """Redis lost stock taken for these tokens (restarted empty, flushed) before their orders committed: a
    rebuild from the database may already have handed those units out again, so the orders must not be
    created; the caller rolls back and takes stock afresh (docs/decisions/0014)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        super().__init__(f"{len(self.tokens)} reservation(s) lost by Redis before their commit")


def confirm_held(*, reservations: Sequence[tuple[str, str, Sequence[Take]]]) -> None:
    """Inside a purchase's transaction, last before its commit: (backend, token, takes) of its reservations.
    For those whose stock Redis holds: lock their pools' rows against a rebuild (FOR KEY SHARE; a rebuild
    holds FOR UPDATE while it counts), then check Redis still holds every token. If Redis lost one, raise
    ReservationsLost. Either the rebuild counts this order (it waits for the commit) or this order is not
    created: a unit is never sold twice however a flush or restart falls (docs/decisions/0014)."""
    held = [(token, takes) for name, token, takes in reservations if name == "redis"
            and any(t.kind in RedisBackend.external_kinds for t in takes)]
    if not held:
        return
    backend = get_backend("redis")
    assert isinstance(backend, RedisBackend)
    if connection.vendor == "postgresql":
        by_table: dict[str, set[int]] = {}
        for _token, takes in held:
            for take in takes:
                if take.kind in backend.external_kinds:
                    by_table.setdefault(_pool_table(take.kind)[0], set()).add(take.pool_id)
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in sorted(by_table):
                ids = sorted(by_table[table])
                cursor.execute(f"SELECT id FROM {qn(table)} WHERE id IN ({', '.join(['%s'] * len(ids))}) "
                               f"ORDER BY id FOR KEY SHARE", ids)
    tokens = [token for token, _takes in held]
    try:
        found = backend.client.hmget(backend.reservations_key, tokens)
    except backend._unreachable as exc:  # cannot tell: do not create orders that may be sold twice
        log.warning("cannot confirm reservations in Redis: %s", exc)
        raise ReservationsLost(tokens)
    missing = [token for token, value in zip(tokens, found, strict=True) if value is None]
    if missing:
        log.warning("Redis lost %d reservation(s) before their orders committed; taking stock again", len(missing))
        raise ReservationsLost(missing)


@dataclass(frozen=True)
class Reservation:
    """What a reservation record says: its token, backend, buyer and what it took."""

    token: str
    backend: str
    buyer_id: int
    takes: tuple[Take, ...]


def record_reservations(*, reservations: Sequence[Reservation]) -> list[InventoryReservation]:
    """Inside the caller's transaction: the database record of reservations (held), several at once."""
    rows = InventoryReservation.objects.bulk_create(
        InventoryReservation(token=r.token, backend=r.backend, buyer_id=r.buyer_id) for r in reservations)
    ReservationItem.objects.bulk_create(
        ReservationItem(reservation=row, pool=t.pool, quantity=t.quantity, limited=t.limit is not None)
        for row, r in zip(rows, reservations, strict=True) for t in r.takes)
    return rows


def _give_back_db(pool_key: str, quantity: int, *, buyer_id: int, limited: bool) -> None:
    kind, pk = pool_key.split(":", 1)
    model = _pool_model(kind)
    _, column = _pool_table(kind)
    model.objects.filter(pk=int(pk)).update(**{column: F(column) + quantity})
    if limited:
        BuyerCount.objects.filter(pool=pool_key, buyer_id=buyer_id, quantity__gte=quantity).update(
            quantity=F("quantity") - quantity)


class DbBackend(InventoryBackend):
    """Conditional updates: the row is decremented only if enough is left, in one statement."""

    name = "db"

    def _take_db(self, take: Take, buyer_id: int) -> int:
        table, column = _pool_table(take.kind)
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {qn(table)} SET {qn(column)} = {qn(column)} - %s "
                f"WHERE id = %s AND {qn(column)} >= %s RETURNING {qn(column)}",
                [take.quantity, take.pool_id, take.quantity],
            )
            row = cursor.fetchone()
        if row is None:
            raise SoldOut(details={"pool": take.pool})
        if take.limit is not None:
            self._count_buyer(take, buyer_id)
        return int(row[0])

    @staticmethod
    def _count_buyer(take: Take, buyer_id: int) -> None:
        if take.quantity > take.limit:  # type: ignore[operator]
            raise LimitExceeded(details={"pool": take.pool, "limit": take.limit, "bought": 0})
        table = connection.ops.quote_name(BuyerCount._meta.db_table)
        # One upsert, race-free on both databases: the update only applies while under the limit.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (pool, buyer_id, quantity) VALUES (%s, %s, %s) "
                f"ON CONFLICT (pool, buyer_id) DO UPDATE SET quantity = {table}.quantity + excluded.quantity "
                f"WHERE {table}.quantity + excluded.quantity <= %s",
                [take.pool, buyer_id, take.quantity, take.limit],
            )
            applied = cursor.rowcount
        if applied != 1:
            raise LimitExceeded(details={"pool": take.pool, "limit": take.limit})


class NaiveBackend(InventoryBackend):
    """Row lock, read, check, write: what one writes first. Correct, and serialises every attempt."""

    name = "naive"

    def _take_db(self, take: Take, buyer_id: int) -> int:
        model = _pool_model(take.kind)
        _, column = _pool_table(take.kind)
        row = model.objects.select_for_update().get(pk=take.pool_id)
        left = getattr(row, column)
        if left < take.quantity:
            raise SoldOut(details={"pool": take.pool})
        if take.limit is not None:
            counter, _ = BuyerCount.objects.select_for_update().get_or_create(pool=take.pool, buyer_id=buyer_id)
            if counter.quantity + take.quantity > take.limit:
                raise LimitExceeded(details={"pool": take.pool, "limit": take.limit, "bought": counter.quantity})
            counter.quantity += take.quantity
            counter.save(update_fields=["quantity"])
        setattr(row, column, left - take.quantity)
        row.save(update_fields=[column])
        return left - take.quantity


# ---------------------------------------------------------------------------------------------------
# Redis

# Take stock and record the reservation, all or nothing: the one Lua source of both the Redis backend's
# reservation script (_RESERVE) and the purchase fast path's (fastpath._ATTEMPT), so the two take stock,
# count buyers and write the reservation record (what reconcile_redis and RESOLVE_SCRIPT read) alike.
# takes: {{pool, quantity, limit (-1: none)}, ...}; a pool's keys are <inv prefix><pool>:stock / :buyers.
# Returns {0, left per take...}; {-3, i}: take i's pool has no counter (Redis lost it); {-2, i, bought}:
# over the per-buyer limit; {-1, i, left}: not enough stock.
TAKE_AND_RECORD = """
local function take_and_record(reservations, inv, token, buyer, now, takes)
  for i, t in ipairs(takes) do
    local s = redis.call('GET', inv .. t[1] .. ':stock')
    if not s then return {-3, i} end
    if t[3] >= 0 and t[2] > t[3] then return {-2, i, 0} end
    if tonumber(s) < t[2] then return {-1, i, tonumber(s)} end
    if t[3] >= 0 then
      local have = tonumber(redis.call('HGET', inv .. t[1] .. ':buyers', buyer) or '0')
      if have + t[2] > t[3] then return {-2, i, have} end
    end
  end
  local out, items = {0}, {}
  for i, t in ipairs(takes) do
    out[i + 1] = redis.call('DECRBY', inv .. t[1] .. ':stock', t[2])
    local limited = 0
    if t[3] >= 0 then
      redis.call('HINCRBY', inv .. t[1] .. ':buyers', buyer, t[2])
      limited = 1
    end
    items[i] = '["' .. t[1] .. '", ' .. t[2] .. ', ' .. limited .. ']'
  end
  redis.call('HSET', reservations, token,
    '{"b": ' .. buyer .. ', "t": ' .. math.floor(now) .. ', "i": [' .. table.concat(items, ', ') .. ']}')
  return out
end
"""

# KEYS: reservations hash. ARGV: token, inventory key prefix, buyer, now (epoch s), then (pool, quantity,
# limit or -1) per take. {2}: this token is already held.
_RESERVE = TAKE_AND_RECORD + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {2} end
local takes = {}
for i = 5, #ARGV, 3 do takes[#takes + 1] = {ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])} end
return take_and_record(KEYS[1], ARGV[2], ARGV[1], ARGV[3], tonumber(ARGV[4]), takes)
"""

# KEYS: reservations hash. ARGV: token, key prefix, mode ("release" gives the stock back, "commit" keeps it).
# Keys are built inside the script from the stored payload (one Redis, not a cluster). A pool whose counter
# is missing (Redis lost it) is left alone: its rebuild counts from the database, where this reservation
# is already released.
RESOLVE_SCRIPT = """
local payload = redis.call('HGET', KEYS[1], ARGV[1])
if not payload then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] == 'release' then
  local r = cjson.decode(payload)
  for _, item in ipairs(r['i']) do
    if redis.call('EXISTS', ARGV[2] .. item[1] .. ':stock') == 1 then
      redis.call('INCRBY', ARGV[2] .. item[1] .. ':stock', item[2])
      if item[3] == 1 then
        local left = redis.call('HINCRBY', ARGV[2] .. item[1] .. ':buyers', tostring(r['b']), -item[2])
        if left <= 0 then redis.call('HDEL', ARGV[2] .. item[1] .. ':buyers', tostring(r['b'])) end
      end
    end
  end
end
return 1
"""

# Rebuild one pool after Redis lost its counter, all at once and only if nobody rebuilt it meanwhile.
# KEYS: stock, buyers, reservations hash. ARGV: units left, pool, number of buyers n, then n (buyer, units)
# pairs, then (token, buyer, epoch s, quantity, limited) per reservation the database holds for the pool:
# each goes back into the reservations hash (merged into the token's entry if another pool's rebuild wrote
# one), so releasing it later gives its units and its buyer's limit back. Returns 1, or 0 if it existed.
_REBUILD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local token = ARGV[i]
  local current = redis.call('HGET', KEYS[3], token)
  local r
  if current then r = cjson.decode(current) else r = {b = tonumber(ARGV[i + 1]), t = tonumber(ARGV[i + 2]), i = {}} end
  local present = false
  for _, item in ipairs(r['i']) do if item[1] == ARGV[2] then present = true end end
  if not present then r['i'][#r['i'] + 1] = {ARGV[2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])} end
  redis.call('HSET', KEYS[3], token, cjson.encode(r))
  i = i + 5
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""

# KEYS: stock, buyers. ARGV: seconds the drained pool's keys live on. Drain a pool: return what is left
# and leave 0 behind, for a while: once they expire, a late attempt rebuilds them from the database, where
# the sale is settled (0 left), so a pool's keys do not stay in Redis forever.
_DRAIN = """
local s = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 0, 'EX', tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
return tonumber(s or '0')
"""
DRAINED_TTL_SECONDS = 24 * 3600


def redis_prefix() -> str:
    """`<prefix>:inv:`, before a pool's `<pool>:stock` and `<pool>:buyers` (also inside the scripts)."""
    return redis.prefix(redis.INVENTORY)


def reservations_key() -> str:
    """The hash of reservations Redis holds stock for: token → {"b": buyer, "t": epoch s, "i": [[pool,
    quantity, limited], ...]} (written by TAKE_AND_RECORD, read by RESOLVE_SCRIPT and reconcile_redis)."""
    return redis.key(redis.INVENTORY, "reservations")


class RedisBackend(DbBackend):
    """Sale and coupon pools in Redis; product pools through the database (DbBackend), see the module doc."""

    name = "redis"
    external_kinds = frozenset({"sale", "coupon"})

    def __init__(self) -> None:
        self.prefix = redis_prefix()
        self.reservations_key = reservations_key()
        client = redis.client()
        redis.require_noeviction(client, purpose="the Redis inventory backend (ZHUNONG_INVENTORY_BACKEND=redis)")
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._unreachable = (RedisConnectionError, RedisTimeoutError)
        self._reserve = client.register_script(_RESERVE)
        self._resolve_script = client.register_script(RESOLVE_SCRIPT)
        self._drain = client.register_script(_DRAIN)
        self._rebuild = client.register_script(_REBUILD)

    @property
    def client(self):  # noqa: ANN201
        return redis.client()

    def stock_key(self, pool: str) -> str:
        return f"{self.prefix}{pool}:stock"

    def buyers_key(self, pool: str) -> str:
        return f"{self.prefix}{pool}:buyers"

    def reserve_outside(self, *, token: str, buyer_id: int, takes: Sequence[Take]) -> dict[str, int]:
        external = _sorted(t for t in takes if t.kind in self.external_kinds)
        if not external:
            return {}
        for take in external:
            if take.limit is not None and take.quantity > take.limit:
                raise LimitExceeded(details={"pool": take.pool, "limit": take.limit, "bought": 0})
        keys = [self.reservations_key]
        args: list[object] = [token, self.prefix, buyer_id, int(time.time())]
        for take in external:
            args += [take.pool, take.quantity, -1 if take.limit is None else take.limit]
        try:
            for _attempt in range(2):
                result = self._reserve(keys=keys, args=args)
                code = int(result[0])
                if code == -3:  # the counter is missing (Redis restarted empty): rebuild it from the database
                    self.rebuild(pool=external[int(result[1]) - 1].pool)
                    continue
                break
        except self._unreachable as exc:
            # Nothing was taken (the script never ran, or ran and its answer was lost: then reconcile_redis
            # releases the unrecorded token after its grace period). The buyer retries with the same key.
            log.warning("the Redis inventory is unreachable: %s", exc)
            raise InventoryUnavailable()
        if code == -1:
            raise SoldOut(details={"pool": external[int(result[1]) - 1].pool})
        if code == -2:
            take = external[int(result[1]) - 1]
            raise LimitExceeded(details={"pool": take.pool, "limit": take.limit, "bought": int(result[2])})
        if code == 2:  # the same token twice: already held
            return {}
        if code != 0:
            raise RuntimeError(f"inventory script returned {result!r}")
        return {t.pool: int(v) for t, v in zip(external, result[1:], strict=True)}

    def undo_outside(self, *, token: str) -> None:
        self._resolve_script(keys=[self.reservations_key], args=[token, self.prefix, "release"])

    def _after_release(self, token: str) -> None:
        transaction.on_commit(lambda: self._redis_resolve(token, "release"))

    def _after_commit(self, token: str) -> None:
        transaction.on_commit(lambda: self._redis_resolve(token, "commit"))

    def _redis_resolve(self, token: str, mode: str) -> None:
        try:
            self._resolve_script(keys=[self.reservations_key], args=[token, self.prefix, mode])
        except Exception:  # the database is already right; reconciliation repeats this later
            log.exception("could not %s reservation %s in Redis", mode, token)

    def load(self, *, pool: str, quantity: int) -> None:
        def _set() -> None:
            pipe = self.client.pipeline()
            pipe.set(self.stock_key(pool), quantity)
            pipe.delete(self.buyers_key(pool))
            pipe.execute()

        if pool.split(":", 1)[0] in self.external_kinds:
            transaction.on_commit(_set)

    def rebuild(self, *, pool: str) -> bool:
        """Recreate a pool's counters after Redis lost them (restarted empty, flushed), from the database,
        the record of every order: units left = the pool's size minus what held and committed reservations
        took; each buyer's count; and the held reservations themselves back into the reservations hash, so
        that cancelling or expiring an unpaid order still returns its units and its buyer's limit. One script,
        so a concurrent rebuild of the same pool loses (its counter already exists). True if this one wrote.
        """
        with transaction.atomic():
            return self._rebuild_locked(pool)

    def _rebuild_locked(self, pool: str) -> bool:
        kind, pk = pool.split(":", 1)
        # The pool's row, FOR UPDATE: purchases that took stock from the lost counter hold it FOR KEY SHARE
        # until they commit (confirm_held), so this waits for them and counts them (docs/decisions/0014).
        total = _pool_model(kind).objects.select_for_update().filter(pk=int(pk)).values_list(
            "quantity" if kind == "sale" else "total_quantity", flat=True).first()
        if total is None:
            raise SoldOut(details={"pool": pool})
        taken_items = ReservationItem.objects.filter(
            pool=pool, reservation__state__in=[ReservationState.HELD, ReservationState.COMMITTED])
        taken = taken_items.aggregate(n=Sum("quantity"))["n"] or 0
        if kind == "sale":
            sale = FlashSale.objects.get(pk=int(pk))
            if sale.settled_at is not None:
                taken = total  # settled: what was left went back to the product
        per_buyer = taken_items.filter(limited=True).values("reservation__buyer_id").annotate(n=Sum("quantity"))
        args: list[object] = [max(0, total - taken), pool, len(per_buyer)]
        for row in per_buyer:
            args += [row["reservation__buyer_id"], row["n"]]
        held = ReservationItem.objects.filter(pool=pool, reservation__state=ReservationState.HELD).values_list(
            "reservation__token", "reservation__buyer_id", "reservation__created_at", "quantity", "limited")
        for token, buyer_id, created_at, quantity, limited in held:
            args += [token, buyer_id, int(created_at.timestamp()), quantity, int(limited)]
        written = bool(self._rebuild(keys=[self.stock_key(pool), self.buyers_key(pool), self.reservations_key],
                                     args=args))
        if written:
            log.warning("inventory pool %s rebuilt from the database: %s left, %s held reservations restored",
                        pool, max(0, total - taken), len(held))
        return written

    def _counter(self, pool: str) -> bytes | None:
        """The pool's counter; a missing one (Redis restarted empty or was flushed) is rebuilt from the
        database first. Never the database's mirror instead: it is only as fresh as the last sweep, so a
        sold-out sale whose units came back after a flush would stay sold out on a stale 0 (its units
        stranded, and lost when it settles), and one flushed before its first sweep would reopen on a
        stale full count (docs/reliability.md, "Redis flushed mid-sale")."""
        value = self.client.get(self.stock_key(pool))
        if value is None:
            try:
                self.rebuild(pool=pool)
            except SoldOut:  # no such pool
                return None
            value = self.client.get(self.stock_key(pool))
        return value

    def remaining(self, pool: str) -> int:
        if pool.split(":", 1)[0] not in self.external_kinds:
            return super().remaining(pool)
        value = self._counter(pool)
        return super().remaining(pool) if value is None else int(value)

    def bought(self, pool: str, buyer_id: int) -> int:
        if pool.split(":", 1)[0] not in self.external_kinds:
            return super().bought(pool, buyer_id)
        if self._counter(pool) is None:
            return 0
        value = self.client.hget(self.buyers_key(pool), str(buyer_id))
        return int(value or 0)

    def drain(self, *, pool: str) -> int:
        if pool.split(":", 1)[0] not in self.external_kinds:
            return super().drain(pool=pool)
        left = int(self._drain(keys=[self.stock_key(pool), self.buyers_key(pool)], args=[DRAINED_TTL_SECONDS]))
        super().drain(pool=pool)  # keep the row's mirror at 0 as well
        return left

    def pending_tokens(self) -> dict[str, dict]:
        """Every token Redis holds stock for, with its payload."""
        out = {}
        for token, payload in self.client.hscan_iter(self.reservations_key, count=500):
            out[token.decode()] = json.loads(payload)
        return out


_INSTANCES: dict[str, InventoryBackend] = {}


def get_backend(name: str | None = None) -> InventoryBackend:
    name = name or settings.INVENTORY_BACKEND
    if name not in BACKENDS:
        raise ValueError(f"unknown inventory backend {name!r}; choose one of {BACKENDS}")
    if name == "redis" and not settings.REDIS_URL:
        raise ValueError("the redis inventory backend needs REDIS_URL")
    backend = _INSTANCES.get(name)
    if backend is None:
        backend = {"db": DbBackend, "redis": RedisBackend, "naive": NaiveBackend}[name]()
        _INSTANCES[name] = backend
    return backend


@dataclass
class ReconcileReport:
    orphans_released: int = 0
    released_replayed: int = 0
    committed_replayed: int = 0
    mirrors_updated: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def reconcile_redis(*, grace_seconds: int = 120, dry_run: bool = False) -> ReconcileReport:
    """Bring Redis and the database back into agreement after crashes and lost messages.

    - a token Redis holds but the database never recorded (the process died between the Lua script and
      the commit), older than `grace_seconds`: its stock goes back, and a released reservation is recorded
      so stock accounting still adds up;
    - a token the database released or committed but Redis still holds (the process died after commit):
      the release/commit is applied to Redis now;
    - the database mirrors (`FlashSale.remaining`, `Coupon.remaining`) are refreshed from Redis.
    """
    backend = get_backend("redis")
    assert isinstance(backend, RedisBackend)
    report = ReconcileReport()
    now = time.time()
    pending = backend.pending_tokens()
    states = dict(InventoryReservation.objects.filter(token__in=list(pending)).values_list("token", "state"))
    for token, payload in pending.items():
        state = states.get(token)
        if state is None:
            if now - payload.get("t", now) < grace_seconds:
                continue  # probably a request still between the script and its commit
            report.orphans_released += 1
            if not dry_run:
                _record_orphan(backend, token, payload)
        elif state == ReservationState.RELEASED:
            report.released_replayed += 1
            if not dry_run:
                backend._redis_resolve(token, "release")
        elif state == ReservationState.COMMITTED:
            report.committed_replayed += 1
            if not dry_run:
                backend._redis_resolve(token, "commit")
    if not dry_run:
        report.mirrors_updated = refresh_mirrors(backend)
    return report


@transaction.atomic
def _record_orphan(backend: RedisBackend, token: str, payload: dict) -> None:
    if not User.objects.filter(pk=payload["b"]).exists():  # nothing to record against: just give it back
        log.warning("orphan reservation %s of unknown buyer %s released", token, payload["b"])
        transaction.on_commit(lambda: backend._redis_resolve(token, "release"))
        return
    reservation, created = InventoryReservation.objects.get_or_create(
        token=token, defaults={"backend": backend.name, "buyer_id": payload["b"], "state": ReservationState.RELEASED,
                               "reason": "orphan (never recorded)", "resolved_at": timezone.now()})
    if created:
        ReservationItem.objects.bulk_create(
            ReservationItem(reservation=reservation, pool=p, quantity=q, limited=bool(lim))
            for p, q, lim in payload["i"])
    if reservation.state == ReservationState.RELEASED:
        transaction.on_commit(lambda: backend._redis_resolve(token, "release"))
    else:  # recorded meanwhile by a slow request: leave it to the normal path
        log.info("reservation %s was recorded after all", token)


def refresh_mirrors(backend: RedisBackend) -> int:
    """Copy live Redis counters into the database rows of open sales and coupons (for pages and settling)."""
    changed = 0
    for sale in FlashSale.objects.filter(settled_at__isnull=True).only("id", "remaining", "quantity"):
        value = backend.client.get(backend.stock_key(pool("sale", sale.pk)))
        if value is not None and int(value) != sale.remaining and 0 <= int(value) <= sale.quantity:
            changed += FlashSale.objects.filter(pk=sale.pk).update(remaining=int(value))
    now = timezone.now()
    for coupon in Coupon.objects.filter(valid_until__gt=now - timezone.timedelta(days=1)).only("id", "remaining",
                                                                                              "total_quantity"):
        value = backend.client.get(backend.stock_key(pool("coupon", coupon.pk)))
        if value is not None and int(value) != coupon.remaining and 0 <= int(value) <= coupon.total_quantity:
            changed += Coupon.objects.filter(pk=coupon.pk).update(remaining=int(value))
    return changed
