"""redis-py's asyncio client behind the interface of `core.resp.PipelinedRedis`.

It exists so that the purchase fast path can be measured with each client in the same run
(`zhunong bench flash-sale --compare-redis-clients`, docs/benchmarks.md): the project keeps its
hand-written client only while it is clearly faster (docs/decisions/0004-redis-client-of-the-fast-path.md).
redis-py parses replies with hiredis when it is installed (it is: a dependency) and checks a connection out
of its pool for each command, so concurrent requests travel on several connections instead of one pipeline.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from .resp import RedisReplyError, ScriptCalls


class RedisPyScripts(ScriptCalls):
    def __init__(self, url: str, *, timeout: float = 5.0, max_connections: int = 64) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                              max_connections=max_connections)
        # Raw replies, as core.resp returns them (redis-py would turn SET's OK into True, and so on).
        self.client.response_callbacks.clear()
        self.scripts: dict[str, bytes] = {}

    async def execute(self, *args: Any) -> Any:  # noqa: ANN401
        # The fast path knows core.resp's errors: an error reply, or a built-in ConnectionError/TimeoutError
        # (it then hands the request to Django). redis-py's own classes are translated to those.
        try:
            return await self.client.execute_command(*args)
        except redis_errors.NoScriptError as exc:  # redis-py drops the reply's NOSCRIPT prefix
            raise RedisReplyError(f"NOSCRIPT {exc}") from exc
        except redis_errors.ResponseError as exc:
            raise RedisReplyError(str(exc)) from exc
        except redis_errors.TimeoutError as exc:
            raise TimeoutError(str(exc)) from exc
        except redis_errors.ConnectionError as exc:
            raise ConnectionError(str(exc)) from exc

    def close(self) -> None:
        # The pool's connections close with the process; the fast path closes its client only at shutdown.
        self.client.connection_pool.reset()
