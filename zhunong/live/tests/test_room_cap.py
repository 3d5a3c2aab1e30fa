"""Connections per address per room (ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS): a script cannot inflate the
viewer count with new `vid`s from one address; logged-in viewers are capped per account instead."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from zhunong.live import hub as hub_module
from zhunong.live import store
from zhunong.testing import make_user

from .wsutil import closed_with, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_room_state():
    store.reset_memory_store()
    hub_module.reset_word_cache()
    yield


async def connect_from(stream_id: int, address: str, *, user=None, vid: str = "") -> tuple[WebsocketCommunicator, dict]:  # noqa: ANN001
    from zhunong.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    comm = WebsocketCommunicator(application, f"/ws/rooms/{stream_id}/" + (f"?vid={vid}" if vid else ""),
                                 headers=headers)
    comm.scope["client"] = (address, 50000)  # what the ASGI server (or uvicorn's proxy headers) says
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return comm, json.loads(await comm.receive_from(timeout=5))


@run
async def _cap(room, alice):  # noqa: ANN001, ANN202
    sid = room.stream.pk
    first = [(await connect_from(sid, "10.0.0.1", vid=f"script-{i:04d}"))[0] for i in range(2)]
    hub = hub_module.running_hubs()[sid]
    refused, frame = await connect_from(sid, "10.0.0.1", vid="script-0002")
    assert frame["t"] == "error" and frame["code"] == "too_many_connections"
    assert await closed_with(refused) == 4429
    await refused.disconnect()
    assert len(hub.conns) == 2
    # Another address is not affected; nor is a logged-in viewer behind the same address.
    other, frame = await connect_from(sid, "10.0.0.2")
    assert frame["t"] == "welcome"
    logged_in = [await connect_from(sid, "10.0.0.1", user=alice) for _ in range(2)]
    assert [f["t"] for _, f in logged_in] == ["welcome", "welcome"]
    # ... but an account is capped too, whatever its addresses.
    third, frame = await connect_from(sid, "10.0.0.3", user=alice)
    assert frame["code"] == "too_many_connections"
    assert await closed_with(third) == 4429
    await third.disconnect()
    # A connection that leaves frees its place.
    await first[0].disconnect()
    again, frame = await connect_from(sid, "10.0.0.1")
    assert frame["t"] == "welcome"
    # IPv6: one /64 is one address (a host has the whole /64 to pick from).
    v6 = [await connect_from(sid, f"2001:db8:1:2::{i}") for i in range(1, 4)]
    assert [f["t"] for _, f in v6] == ["welcome", "welcome", "error"]
    await sid_close(v6[2][0])
    for comm in [first[1], other, again, *[c for c, _ in logged_in], *[c for c, _ in v6[:2]]]:
        await comm.disconnect()
    assert not hub.conns and not hub._limit_counts


async def sid_close(comm: WebsocketCommunicator) -> None:
    assert await closed_with(comm) == 4429
    await comm.disconnect()


@override_settings(ROOM_CONNECTIONS_PER_ADDRESS=2)
def test_connections_per_address_and_per_account_are_capped(room):
    _cap(room, make_user())


@run
async def _off(room):  # noqa: ANN001, ANN202
    comms = [await connect_from(room.stream.pk, "10.0.0.9") for _ in range(5)]
    assert all(f["t"] == "welcome" for _, f in comms)
    for comm, _ in comms:
        await comm.disconnect()


@override_settings(ROOM_CONNECTIONS_PER_ADDRESS=0)
def test_zero_turns_the_cap_off(room):
    _off(room)


def test_the_default_is_eight_and_the_environment_sets_it(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from zhunong.live import consumers

    monkeypatch.delenv("ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS", raising=False)
    assert consumers._env_cap() == 8
    monkeypatch.setenv("ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS", "0")
    assert consumers._env_cap() == 0
    monkeypatch.setenv("ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS", "-1")
    with pytest.raises(ImproperlyConfigured):
        consumers._env_cap()


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, b"203.0.113.9", "127.0.0.1"),                 # no proxy declared: the header is not believed
    (1, b"198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the address nginx saw, not what the client wrote
    (2, b"198.51.100.1, 203.0.113.9", "198.51.100.1"),
    (1, b"", "127.0.0.1"),
])
def test_the_address_follows_trusted_proxy_count(settings, proxies, forwarded, expected):
    from zhunong.live import consumers

    settings.TRUSTED_PROXY_COUNT = proxies
    scope = {"client": ("127.0.0.1", 5000), "headers": [(b"x-forwarded-for", forwarded)] if forwarded else []}
    assert consumers.client_address(scope) == expected
