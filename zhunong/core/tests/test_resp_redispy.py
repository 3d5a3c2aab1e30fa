"""The redis-py adapter answers exactly as the hand-written client does (core/resp_redispy.py), so the fast
path can be measured with either in one run."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from zhunong.core.resp import PipelinedRedis, RedisReplyError
from zhunong.core.resp_redispy import RedisPyScripts


@pytest.mark.postgres_redis
def test_both_clients_give_the_same_replies_errors_and_survive_a_script_flush():
    prefix = f"{settings.REDIS_PREFIX}:test:resp-redispy:"

    async def replies(client) -> list:  # noqa: ANN001
        sha = client.register("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
        await client.execute("DEL", prefix + "n")
        out = [await client.execute("SET", prefix + "s", "值"), await client.execute("GET", prefix + "s"),
               await client.evalsha(sha, [prefix + "n"], [7])]
        await client.execute("SCRIPT", "FLUSH")
        out.append(await client.evalsha(sha, [prefix + "n"], ["x"]))  # NOSCRIPT: loaded again, answered
        with pytest.raises(RedisReplyError, match="wrong number of arguments"):
            await client.execute("INCR", prefix + "n", "extra")
        out += await asyncio.gather(*(client.execute("INCR", prefix + "c") for _ in range(50)))
        await client.execute("DEL", prefix + "n", prefix + "s", prefix + "c")
        client.close()
        return out

    async def scenario() -> tuple[list, list]:
        return await replies(PipelinedRedis(settings.REDIS_URL)), await replies(RedisPyScripts(settings.REDIS_URL))

    hand_written, redis_py = asyncio.run(scenario())
    # Concurrent INCRs: one pipeline answers in call order, a pool of connections in any order.
    assert hand_written[:4] == redis_py[:4]
    assert sorted(hand_written[4:]) == sorted(redis_py[4:])
    assert hand_written[:2] == [b"OK", "值".encode()]
    assert hand_written[2] == [(prefix + "n").encode(), b"7", 1]
    assert sorted(hand_written[4:]) == list(range(1, 51))


@pytest.mark.postgres_redis
def test_an_unreachable_redis_is_a_builtin_connection_error():
    async def scenario() -> None:
        client = RedisPyScripts("redis://127.0.0.1:1/0", timeout=1)
        with pytest.raises(OSError):  # ConnectionError is an OSError: the fast path then hands over to Django
            await client.execute("PING")

    asyncio.run(scenario())
