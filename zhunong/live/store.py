"""Room state that must add up across server processes: viewers, likes and per-user chat limits.

With REDIS_URL set, it lives in Redis (one sorted set of live viewer keys per room, a set of every
viewer key ever seen, a like counter and per-user rate-limit keys), so two processes serving one room
report the same viewer count. Without Redis there is one process, and a dict does the same job.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from zhunong.core import redis as redis_keys

# Owncast's numbers: 3 messages per 2 seconds, then a 10-second mute with a notice.
RATE_MAX = 3
RATE_WINDOW = 2.0
AUTO_MUTE_SECONDS = 10.0
# A viewer key not refreshed by any process for this long is no longer counted.
VIEWER_TTL = 16.0
# Gifts and reports per user (socket and API together): a gift is a room event (and, to a public-servant
# host, a stored refusal), a report lands in the moderators' queue.
GIFTS_PER_WINDOW = 10
GIFT_WINDOW = 60
REPORTS_PER_WINDOW = 5
REPORT_WINDOW = 60


@dataclass
class Gate:
    """The verdict on one chat message: ok, or why not and until when (epoch seconds)."""

    ok: bool
    code: str = ""
    until: float = 0.0
    newly_muted: bool = False


class MemoryStore:
    def __init__(self) -> None:
        self.viewers: dict[int, dict[str, float]] = defaultdict(dict)
        self.seen: dict[int, set[str]] = defaultdict(set)
        self.likes: dict[int, int] = {}
        self.sent: dict[tuple[int, int], deque[float]] = defaultdict(deque)
        self.muted_until: dict[tuple[int, int], float] = {}
        self.last_sent: dict[tuple[int, int], float] = {}

    async def touch(self, stream_id: int, keys: Iterable[str], now: float) -> None:
        room = self.viewers[stream_id]
        for key in keys:
            room[key] = now

    async def mark_seen(self, stream_id: int, keys: list[str]) -> list[str]:
        seen = self.seen[stream_id]
        new = [k for k in keys if k not in seen]
        seen.update(new)
        return new

    async def preload_seen(self, stream_id: int, keys: Iterable[str]) -> None:
        self.seen[stream_id].update(keys)

    async def drop(self, stream_id: int, keys: Iterable[str]) -> None:
        room = self.viewers[stream_id]
        for key in keys:
            room.pop(key, None)

    async def count(self, stream_id: int, now: float) -> int:
        room = self.viewers[stream_id]
        for key in [k for k, t in room.items() if t < now - VIEWER_TTL]:
            del room[key]
        return len(room)

    async def add_likes(self, stream_id: int, n: int, floor: int) -> int:
        total = max(self.likes.get(stream_id, 0), floor) + n
        self.likes[stream_id] = total
        return total

    async def chat_gate(self, stream_id: int, user_id: int, now: float, slow_mode: int) -> Gate:
        k = (stream_id, user_id)
        until = self.muted_until.get(k, 0.0)
        if until > now:
            return Gate(False, "muted", until)
        if slow_mode and self.last_sent.get(k, 0.0) + slow_mode > now:
            return Gate(False, "slow_mode", self.last_sent[k] + slow_mode)
        sent = self.sent[k]
        while sent and sent[0] <= now - RATE_WINDOW:
            sent.popleft()
        if len(sent) >= RATE_MAX:
            self.muted_until[k] = now + AUTO_MUTE_SECONDS
            sent.clear()
            return Gate(False, "rate_limited", now + AUTO_MUTE_SECONDS, newly_muted=True)
        sent.append(now)
        self.last_sent[k] = now
        return Gate(True)

    async def close(self) -> None:
        return None


# The chat gate in one round trip. KEYS: muted-until, recent sends (zset), last accepted.
# ARGV: now, window, max, mute seconds, slow mode seconds, unique member.
_GATE_LUA = """
local now = tonumber(ARGV[1])
local mu = tonumber(redis.call('GET', KEYS[1]) or '0')
if mu > now then return {'muted', tostring(mu)} end
local slow = tonumber(ARGV[5])
if slow > 0 then
  local last = tonumber(redis.call('GET', KEYS[3]) or '0')
  if last + slow > now then return {'slow_mode', tostring(last + slow)} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  local untl = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[1], tostring(untl), 'EX', math.ceil(tonumber(ARGV[4])) + 1)
  redis.call('DEL', KEYS[2])
  return {'rate_limited', tostring(untl)}
end
redis.call('ZADD', KEYS[2], now, ARGV[6])
redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2])) + 1)
redis.call('SET', KEYS[3], tostring(now), 'EX', math.max(slow, 1) + 1)
return {'ok', '0'}
"""

# SET NX then INCRBY, so the first process after a restart starts from the stored total.
_LIKES_LUA = """
redis.call('SET', KEYS[1], ARGV[2], 'NX')
redis.call('EXPIRE', KEYS[1], 172800)
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


class RedisStore:
    def __init__(self, url: str) -> None:
        # Imported only when a room store on Redis is made: the embedded setup never loads it.
        import redis.asyncio as aioredis

        # A bounded pool that makes callers wait for a connection instead of failing when many
        # connections ask at once (a burst of chat under load).
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=32, timeout=20)
        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = redis_keys.key(redis_keys.LIVE)
        self._gate = self.redis.register_script(_GATE_LUA)
        self._likes = self.redis.register_script(_LIKES_LUA)
        self._n = 0

    def _k(self, stream_id: int, name: str) -> str:
        return f"{self.prefix}:{stream_id}:{name}"

    async def touch(self, stream_id: int, keys: Iterable[str], now: float) -> None:
        mapping = {k: now for k in keys}
        if not mapping:
            return
        key = self._k(stream_id, "viewers")
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, mapping)
            pipe.expire(key, 3600)
            await pipe.execute()

    async def mark_seen(self, stream_id: int, keys: list[str]) -> list[str]:
        if not keys:
            return []
        key = self._k(stream_id, "seen")
        async with self.redis.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.sadd(key, k)
            pipe.expire(key, 2 * 86400)
            results = await pipe.execute()
        return [k for k, added in zip(keys, results[:-1], strict=True) if added]

    async def preload_seen(self, stream_id: int, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            await self.redis.sadd(self._k(stream_id, "seen"), *keys)

    async def drop(self, stream_id: int, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            await self.redis.zrem(self._k(stream_id, "viewers"), *keys)

    async def count(self, stream_id: int, now: float) -> int:
        key = self._k(stream_id, "viewers")
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - VIEWER_TTL)
            pipe.zcard(key)
            _, n = await pipe.execute()
        return int(n)

    async def add_likes(self, stream_id: int, n: int, floor: int) -> int:
        return int(await self._likes(keys=[self._k(stream_id, "likes")], args=[n, floor]))

    async def chat_gate(self, stream_id: int, user_id: int, now: float, slow_mode: int) -> Gate:
        self._n += 1
        base = self._k(stream_id, f"rl:{user_id}")
        code, until = await self._gate(
            keys=[base + ":mu", base + ":ts", base + ":last"],
            args=[now, RATE_WINDOW, RATE_MAX, AUTO_MUTE_SECONDS, slow_mode, f"{now}:{os.getpid()}:{self._n}"],
        )
        code = code.decode() if isinstance(code, bytes) else code
        until_f = float(until)
        if code == "ok":
            return Gate(True)
        return Gate(False, code, until_f, newly_muted=code == "rate_limited")

    async def close(self) -> None:
        await self.redis.aclose()


def _throttle_key(kind: str, user_id: int, window: int, index: int) -> str:
    return f"live:throttle:{kind}:{user_id}:{window}:{index}"


def take_token(kind: str, user_id: int, *, limit: int, window: int) -> int:
    """Count one `kind` action of a user in the current `window` (seconds) through the cache (Redis with
    REDIS_URL, so every process counts together): 0 if it is allowed, else the seconds until the window ends."""
    now = time.time()
    index = int(now // window)
    key = _throttle_key(kind, user_id, window, index)
    cache.add(key, 0, timeout=window + 1)
    try:
        n = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        n = 1
    if n <= limit:
        return 0
    return max(1, int((index + 1) * window - now + 0.999))


def reset_throttle(kind: str, user_id: int) -> None:
    """Tests: forget a user's count of `kind` (this window and the next)."""
    window = GIFT_WINDOW if kind == "gift" else REPORT_WINDOW
    index = int(time.time() // window)
    cache.delete_many([_throttle_key(kind, user_id, window, i) for i in (index, index + 1)])


_memory = MemoryStore()
_redis_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RedisStore] = weakref.WeakKeyDictionary()


def get_store() -> MemoryStore | RedisStore:
    """The store for the running event loop (a Redis client belongs to the loop that created it)."""
    if not settings.REDIS_URL:
        return _memory
    loop = asyncio.get_running_loop()
    store = _redis_stores.get(loop)
    if store is None:
        store = _redis_stores[loop] = RedisStore(settings.REDIS_URL)
    return store


def reset_memory_store() -> None:
    """Tests: forget every room's counters."""
    global _memory
    _memory = MemoryStore()


def forget_room(stream_id: int) -> None:
    """Delete a room's shared counters (tests reuse stream ids across runs; a recreated database would too)."""
    if not settings.REDIS_URL:
        _memory.viewers.pop(stream_id, None)
        _memory.seen.pop(stream_id, None)
        _memory.likes.pop(stream_id, None)
        return
    client = redis_keys.client()
    keys = list(client.scan_iter(match=redis_keys.prefix(redis_keys.LIVE, stream_id) + "*", count=500))
    # channels_redis's membership of the room's group: members left by killed processes would
    # otherwise linger for its group expiry (a day).
    keys.append(redis_keys.key("group", f"room.{stream_id}"))
    if keys:
        client.delete(*keys)
