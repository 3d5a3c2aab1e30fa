"""A minimal pipelined Redis client for one hot command path (the purchase fast path).

redis-py's asyncio client checks a connection out of a pool, wraps every command in a retry loop and
parses replies in Python per call; at thousands of commands a second that is most of a request's cost.
Here all callers of one event loop share one connection: commands are written as they come, replies
(parsed by hiredis, in C) resolve the callers' futures in order. Redis answers in the order it was asked,
so no bookkeeping beyond a FIFO is needed, and concurrent requests are pipelined for free.

It does only what the fast path needs: EVALSHA of registered scripts (loaded on connect and again after a
NOSCRIPT reply, e.g. after a Redis restart), and plain commands. When the connection drops, every waiting
caller gets ConnectionError (the fast path then hands its request to Django) and the next call reconnects.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis


class RedisReplyError(Exception):
    pass


def encode(*args: Any) -> bytes:  # noqa: ANN401
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    append = out.append
    for arg in args:
        kind = type(arg)
        if kind is str:
            data = arg.encode()
        elif kind is bytes:
            data = arg
        elif kind is int or kind is float:
            data = repr(arg).encode()
        else:
            raise TypeError(f"cannot send {kind.__name__} to Redis")
        append(b"$%d\r\n" % len(data))
        append(data)
        append(b"\r\n")
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader(replyError=RedisReplyError)
        self.waiting: deque[asyncio.Future] = deque()
        self.sent_at: deque[float] = deque()  # when each waiting command was written (loop time)
        self.watchdog: asyncio.TimerHandle | None = None
        self.outgoing: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        if self.lost is None and data:
            self.transport.write(data)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            reply = self.reader.gets()
            if reply is False:
                return
            future = self.waiting.popleft()
            self.sent_at.popleft()
            if future.done():
                continue
            if isinstance(reply, RedisReplyError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or ConnectionError("Redis closed the connection")
        self.sent_at.clear()
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(str(self.lost)))


class ScriptCalls:
    """Registered Lua scripts run by digest, loaded again after a NOSCRIPT reply (e.g. after a Redis
    restart). Shared by both fast-path clients; a subclass provides `scripts` and `execute`."""

    scripts: dict[str, bytes]

    def register(self, source: str) -> str:
        sha = hashlib.sha1(source.encode()).hexdigest()
        self.scripts[sha] = source.encode()
        return sha

    async def evalsha(self, sha: str, keys: list, args: list) -> Any:  # noqa: ANN401
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            await self.execute("SCRIPT", "LOAD", self.scripts[sha])
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)


class PipelinedRedis(ScriptCalls):
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urlparse(url)
        if parts.scheme not in ("redis", ""):
            raise ValueError(f"only redis:// URLs are supported here, not {parts.scheme}://")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        self.db = int((parts.path or "/0").lstrip("/") or 0)
        self.timeout = timeout
        self.scripts: dict[str, bytes] = {}  # sha -> source
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def _connection(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and protocol.lost is None:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and self._protocol.lost is None:
                return self._protocol
            loop = asyncio.get_running_loop()
            _, protocol = await asyncio.wait_for(
                loop.create_connection(_Protocol, self.host, self.port), self.timeout)
            setup: list[tuple] = []
            if self.password is not None:
                setup.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
            if self.db:
                setup.append(("SELECT", self.db))
            setup += [("SCRIPT", "LOAD", source) for source in self.scripts.values()]
            for command in setup:
                await self._send(protocol, command)
            self._protocol = protocol
            return protocol

    async def _send(self, protocol: _Protocol, args: tuple) -> Any:  # noqa: ANN401
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        protocol.waiting.append(future)
        protocol.sent_at.append(loop.time())
        # Commands issued in the same turn of the loop leave in one write (one syscall, one TCP segment).
        if not protocol.outgoing:
            loop.call_soon(protocol.flush)
        protocol.outgoing.append(encode(*args))
        if protocol.watchdog is None:
            protocol.watchdog = loop.call_later(1.0, self._watch, protocol)
        return await future

    def _watch(self, protocol: _Protocol) -> None:
        """Once a second rather than a timer per command: if the oldest reply is overdue, Redis is stuck or
        gone; dropping the connection fails every waiter (their requests go to Django) and the next call
        reconnects."""
        protocol.watchdog = None
        if protocol.lost is not None or not protocol.waiting:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - protocol.sent_at[0] > self.timeout:
            protocol.transport.close()  # type: ignore[union-attr]
            return
        protocol.watchdog = loop.call_later(1.0, self._watch, protocol)

    async def execute(self, *args: Any) -> Any:  # noqa: ANN401
        return await self._send(await self._connection(), args)

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
