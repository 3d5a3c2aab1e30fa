"""Two real server processes (uvicorn) sharing PostgreSQL and Redis serve one room.

A viewer on process A sees chat, likes and pins sent through process B, and both processes report
the same room-wide viewer count, in which one browser connected to both processes counts once.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from zhunong.testing import make_user

from .wsutil import session_cookie

pytestmark = [pytest.mark.postgres_redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PORTS = range(18470, 18500)  # this app's share of the helper's port range


def _free_port(exclude: set[int]) -> int:
    for port in PORTS:
        if port in exclude:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18470-18499")


def _database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d.get("PASSWORD") else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def _start(port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=_database_url())
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "zhunong.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--no-access-log", "--log-level", "warning"],
        env=env,
    )


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server on {port} exited with {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start")


async def _open(port: int, stream_id: int, *, cookie: str | None = None, vid: str | None = None):  # noqa: ANN202
    from websockets.asyncio.client import connect

    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    uri = f"ws://127.0.0.1:{port}/ws/rooms/{stream_id}/" + (f"?vid={vid}" if vid else "")
    ws = await connect(uri, origin=f"http://127.0.0.1:{port}", additional_headers=headers, compression=None)
    welcome = json.loads(await ws.recv())
    assert welcome["t"] == "welcome", welcome
    return ws


async def _until(ws, predicate, timeout: float = 10) -> dict:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, "timed out"
        frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        for event in frame.get("events", [frame]):
            if predicate(event):
                return event


async def _viewers(ws) -> int:  # noqa: ANN001
    await ws.send(json.dumps({"t": "hb"}))
    return (await _until(ws, lambda e: e.get("t") == "hb"))["viewers"]


async def _scenario(a: int, b: int, stream_id: int, chatter: str, host: str, product_id: int) -> None:
    v1 = await _open(a, stream_id, vid="browser-one-1")
    v2 = await _open(a, stream_id, vid="browser-two-2")
    h = await _open(a, stream_id, cookie=host)
    c = await _open(b, stream_id, cookie=chatter)
    v1_again = await _open(b, stream_id, vid="browser-one-1")  # the same browser on the other process

    await c.send(json.dumps({"t": "chat", "text": "从B进程发来的弹幕", "ref": 1}))
    chat = await _until(v1, lambda e: e.get("t") == "chat")
    assert chat["text"] == "从B进程发来的弹幕" and chat["host"] is False

    await c.send(json.dumps({"t": "like", "n": 5}))
    likes = await _until(v2, lambda e: e.get("t") == "likes")
    assert likes["total"] == 5

    await h.send(json.dumps({"t": "pin", "product_id": product_id, "ref": "p"}))
    pin = await _until(c, lambda e: e.get("t") == "pin")
    assert pin["pin"]["product"]["id"] == product_id

    # Distinct viewers: browser-one (on both processes), browser-two, the host and the chatter = 4.
    deadline = time.monotonic() + 20
    while True:
        counts = (await _viewers(v1), await _viewers(c))
        if counts == (4, 4) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert counts == (4, 4)

    await v1_again.close()
    await v2.close()
    deadline = time.monotonic() + 20
    while True:
        counts = (await _viewers(v1), await _viewers(c))
        if counts == (3, 3) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert counts == (3, 3)  # browser-one is still there through process A
    for ws in (v1, h, c):
        await ws.close()


def test_two_processes_share_a_room_through_redis(world):
    room = world.live_room()
    chatter = session_cookie(make_user())
    host = session_cookie(room.host.user)
    first = _free_port(set())
    second = _free_port({first})
    servers = [_start(first), _start(second)]
    try:
        for port, proc in zip((first, second), servers, strict=True):
            _wait_for(port, proc)
        asyncio.run(_scenario(first, second, room.stream.pk, chatter, host, room.products[0].pk))
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
