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


def pipelined() -> PipelinedRedis | RedisPyScripts:
    """A new client for the purchase fast path (core/resp.py, or redis-py's asyncio client behind the same
    interface when ZHUNONG_FASTPATH_REDIS_CLIENT=redis-py); it belongs to the event loop that uses it, so
    the caller keeps one per loop."""
    if settings.FASTPATH_REDIS_CLIENT == "redis-py":
        return RedisPyScripts(settings.REDIS_URL)
    return PipelinedRedis(settings.REDIS_URL)
