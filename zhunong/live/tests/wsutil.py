"""Helpers for websocket tests: connect through the real ASGI stack (origin check, session auth)."""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client


def session_cookie(user) -> str:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(stream_id: Any, *, user=None, vid: str | None = None) -> tuple[WebsocketCommunicator, dict]:  # noqa: ANN001
    from zhunong.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = f"/ws/rooms/{stream_id}/" + (f"?vid={vid}" if vid else "")
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    first = json.loads(await comm.receive_from(timeout=5))
    return comm, first


async def recv_raw(comm: WebsocketCommunicator, timeout: float = 2) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def recv(comm: WebsocketCommunicator, timeout: float = 2) -> dict:
    """The next frame addressed to this connection alone (ack, error, notice, hb): room batches
    (viewer counts, likes, other people's chat) arriving in between are skipped."""
    while True:
        frame = await recv_raw(comm, timeout)
        if frame.get("t") != "batch":
            return frame


async def events_until(comm: WebsocketCommunicator, predicate, timeout: float = 3) -> list[dict]:  # noqa: ANN001
    """Collect events (batch frames are unpacked) until one satisfies `predicate`; fail on timeout."""
    seen: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"timed out; got {seen}"
        frame = await recv_raw(comm, timeout=remaining)
        items = frame["events"] if frame.get("t") == "batch" else [frame]
        seen.extend(items)
        if any(predicate(e) for e in items):
            return seen


async def send(comm: WebsocketCommunicator, obj: Any) -> None:
    await comm.send_to(text_data=json.dumps(obj, ensure_ascii=False))


async def closed_with(comm: WebsocketCommunicator, timeout: float = 3) -> int:
    """Read until the server closes; return the close code."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        out = await comm.receive_output(timeout=max(0.01, deadline - loop.time()))
        if out["type"] == "websocket.close":
            return out.get("code", 1000)


async def quiet(comm: WebsocketCommunicator, timeout: float = 0.5) -> bool:
    """True if nothing but viewer-count updates arrives within `timeout` (nothing was broadcast)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0 or await comm.receive_nothing(timeout=remaining):
            return True
        frame = await recv_raw(comm)
        events = frame["events"] if frame.get("t") == "batch" else [frame]
        if any(e.get("t") != "viewers" for e in events):
            return False


async def reply_to(comm: WebsocketCommunicator, ref: Any, timeout: float = 3) -> dict:
    """The ack or error answering the frame sent with `ref`."""
    while True:
        frame = await recv(comm, timeout)
        if frame.get("ref") == ref:
            return frame


def run(fn):  # noqa: ANN001, ANN201
    """Run an async test body on one event loop (DB calls come back to the test's thread); stop the
    room hubs it started, so the next test begins with none."""
    from zhunong.live import hub as hub_module

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        async def body():  # noqa: ANN202
            try:
                await fn(*args, **kwargs)
            finally:
                await hub_module.stop_all()

        async_to_sync(body)()

    return wrapper
