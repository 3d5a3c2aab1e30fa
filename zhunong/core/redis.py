"""The project's Redis: its clients (one synchronous client per process; the pipelined asyncio client
of the purchase fast path, one per event loop) and one place that names keys.

Every key the project writes itself starts with `settings.REDIS_PREFIX` (ZHUNONG_REDIS_PREFIX, so two
deployments can share one Redis) followed by a namespace. The namespaces, so two apps never collide:

    tok    bearer token → user id, for the purchase fast path         accounts/tokencache.py
    idem   idempotency records of purchases                            orders/idempotency.py
    inv    inventory pools, the reservations hash and hot-sale records  orders/inventory.py, hotsales.py
    live   room counters shared between processes                       live/store.py

(Django's cache and the channel layer add the same prefix to keys of their own.)
Lua scripts that derive keys inside Redis (one Redis, not a cluster) get a namespace's `prefix()`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .resp import PipelinedRedis
from .resp_redispy import RedisPyScripts

TOKENS = "tok"
IDEMPOTENCY = "idem"
INVENTORY = "inv"
LIVE = "live"


def key(*parts: object) -> str:
    """`<REDIS_PREFIX>:<part>:<part>...`"""
    return ":".join([settings.REDIS_PREFIX, *(str(p) for p in parts)])


def prefix(*parts: object) -> str:
    """`key(*parts)` with a trailing colon: what a Lua script appends its own parts to."""
    return key(*parts) + ":"


@cache
def client() -> Any:  # noqa: ANN401 - a redis.Redis
    """The process's synchronous client for REDIS_URL (redis-py pools its connections)."""
    import redis  # only when Redis is used: the embedded setup runs without it

    return redis.Redis.from_url(settings.REDIS_URL)


def require_noeviction(redis_client: Any, *, purpose: str) -> None:  # noqa: ANN401 - a redis.Redis
    """Refuse a Redis that may evict keys: the inventory counters, reservations and in-flight marks must
    never vanish under memory pressure (an evicted counter would be rebuilt, but an evicted in-flight
    mark or reservation could sell a unit twice). Only `maxmemory-policy noeviction` is accepted: the
    volatile-* policies would evict our records that carry a TTL (in-flight marks, remembered refusals).
    Read through INFO, which managed Redis services leave enabled when they rename CONFIG.
    (docs/decisions/0013-redis-noeviction-and-rebuild-from-the-database.md)"""
    policy = redis_client.info("memory").get("maxmemory_policy", "noeviction")
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy != "noeviction":
        raise ImproperlyConfigured(
            f"The Redis at REDIS_URL has maxmemory-policy {policy!r}, which may evict keys; {purpose} needs "
            f"'noeviction' (set `maxmemory-policy noeviction` in redis.conf, or run without REDIS_URL / with "
            f"ZHUNONG_INVENTORY_BACKEND=db). See docs/deploy.md.")


def pipelined() -> PipelinedRedis | RedisPyScripts:
    """A new client for the purchase fast path (core/resp.py, or redis-py's asyncio client behind the same
    interface when ZHUNONG_FASTPATH_REDIS_CLIENT=redis-py); it belongs to the event loop that uses it, so
    the caller keeps one per loop."""
    if settings.FASTPATH_REDIS_CLIENT == "redis-py":
        return RedisPyScripts(settings.REDIS_URL)
    return PipelinedRedis(settings.REDIS_URL)
