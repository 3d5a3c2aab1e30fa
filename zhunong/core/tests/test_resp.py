"""The pipelined Redis client of the purchase fast path (core/resp.py).

Encoding is checked everywhere; talking to Redis needs Redis (postgres_redis, as the whole Redis pass).
A fake server that never answers shows the watchdog failing waiters instead of hanging them.
"""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from zhunong.core.resp import PipelinedRedis, RedisReplyError, encode


def test_commands_are_encoded_as_resp_arrays():
    assert encode("SET", "k", b"v\r\n", 5, 1.5) == b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$1\r\n5\r\n$3\r\n1.5\r\n"
    assert encode("GET", "键") == "*2\r\n$3\r\nGET\r\n$3\r\n键\r\n".encode()
    with pytest.raises(TypeError):
        encode("SET", "k", None)


def test_only_redis_urls():
    with pytest.raises(ValueError):
        PipelinedRedis("rediss://example:6380/0")
    client = PipelinedRedis("redis://:s%40cret@10.0.0.1:6390/3")
    assert (client.host, client.port, client.db, client.password) == ("10.0.0.1", 6390, 3, "s@cret")


@pytest.mark.postgres_redis
def test_pipelined_replies_arrive_in_order_and_scripts_survive_a_flush():
    prefix = f"{settings.REDIS_PREFIX}:test:resp:"

    async def scenario() -> None:
        client = PipelinedRedis(settings.REDIS_URL)
        sha = client.register("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        await client.execute("DEL", prefix + "n")
        # Hundreds of commands in flight on one connection: every caller gets its own reply.
        results = await asyncio.gather(*(client.execute("SET", f"{prefix}{i}", i) for i in range(300)))
        assert results == [b"OK"] * 300
        values = await asyncio.gather(*(client.execute("GET", f"{prefix}{i}") for i in range(300)))
        assert values == [str(i).encode() for i in range(300)]
        totals = await asyncio.gather(*(client.evalsha(sha, [prefix + "n"], [1]) for _ in range(50)))
        assert sorted(totals) == list(range(1, 51))
        # A restarted Redis forgets scripts: NOSCRIPT is answered by loading it again.
        await client.execute("SCRIPT", "FLUSH")
        assert await client.evalsha(sha, [prefix + "n"], [10]) == 60
        with pytest.raises(RedisReplyError):
            await client.execute("INCR", prefix + "0", "extra-argument")
        assert await client.execute("GET", prefix + "0") == b"0"  # the connection is still in step
        # A dropped connection fails nobody later: the next call reconnects.
        client.close()
        await asyncio.sleep(0.05)
        assert await client.execute("GET", prefix + "n") == b"60"
        await client.execute("DEL", prefix + "n", *(f"{prefix}{i}" for i in range(300)))
        client.close()

    asyncio.run(scenario())


def test_a_server_that_never_answers_fails_the_waiters():
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1 << 16)
            await asyncio.sleep(30)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout=0.5)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(client.execute("GET", "k"), 5)
        server.close()

    asyncio.run(scenario())


def test_nothing_listening_is_a_connection_error():
    async def scenario() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = PipelinedRedis(f"redis://127.0.0.1:{port}/0")
        with pytest.raises(OSError):
            await client.execute("PING")

    asyncio.run(scenario())
