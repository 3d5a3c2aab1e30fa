"""The event relay of the embedded setup: the Huey worker's realtime events reach the web server's rooms.

Without REDIS_URL each process has its own in-memory channel layer. The worker posts its events, signed,
to the web server's `/internal/events/` (core/relay.py); `zhunong serve` tells the worker where.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import AsyncClient, Client, override_settings

from zhunong.core import events, relay
from zhunong.demo.management.commands import serve

URL = "/internal/events/"
GROUP = "room.987001"  # far from the ids other tests' rooms use on the shared in-memory layer
EVENT = {"type": "room.event", "important": True, "event": {"t": "sale", "event": "started", "flash_sale_id": 3,
                                                           "product_name": "安化黑茶"}}


def _body(group: str = GROUP, event: object = EVENT) -> bytes:
    return json.dumps({"group": group, "event": event}).encode()


class _From(AsyncClient):
    """The test client, connecting from `address` (None: no client address in the ASGI scope)."""

    def __init__(self, address: str | None) -> None:
        super().__init__()
        self.address = address

    def _base_scope(self, **request):  # noqa: ANN003, ANN202
        scope = super()._base_scope(**request)
        if self.address is None:
            del scope["client"]
        else:
            scope["client"] = [self.address, 0]
        return scope


def _post(body: bytes, *, signature: str | None = None, remote_addr: str | None = "127.0.0.1",
          headers: dict[str, str] | None = None) -> tuple[int, list[dict]]:
    """POST through the ASGI request path; return the status and what a subscriber of GROUP got."""
    headers = {relay.SIGNATURE_HEADER: relay.sign(body) if signature is None else signature, **(headers or {})}

    async def go() -> tuple[int, list[dict]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        try:
            response = await _From(remote_addr).post(URL, body, content_type="application/json", headers=headers)
            return response.status_code, await _drain(layer, channel)
        finally:
            await layer.group_discard(GROUP, channel)

    return async_to_sync(go)()


async def _drain(layer, channel: str) -> list[dict]:  # noqa: ANN001
    received = []
    try:
        while True:
            received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
    except TimeoutError:
        return received


@pytest.fixture(autouse=True)
def embedded():
    with override_settings(REDIS_URL="", EVENT_RELAY_URL=""):
        yield


# --- the endpoint ---------------------------------------------------------------------------------


def test_a_signed_event_from_loopback_reaches_the_group():
    status, received = _post(_body())
    assert status == 204
    assert received == [EVENT]


@pytest.mark.parametrize("address", ["::1", "127.0.0.2", "::ffff:127.0.0.1"])
def test_other_loopback_addresses_are_local_too(address):
    assert _post(_body(), remote_addr=address) == (204, [EVENT])


@pytest.mark.parametrize("signature", ["", "0" * 64, "not hex at all"])
def test_a_missing_or_forged_signature_is_refused(signature):
    status, received = _post(_body(), signature=signature)
    assert (status, received) == (403, [])


def test_a_signature_under_another_secret_key_is_refused():
    body = _body()
    with override_settings(SECRET_KEY="another deployment's key " * 3):
        foreign = relay.sign(body)
    assert foreign != relay.sign(body)
    assert _post(body, signature=foreign) == (403, [])


def test_a_signature_of_another_body_is_refused():
    other = _body(event={**EVENT, "event": {"t": "sale", "event": "ended"}})
    assert _post(_body(), signature=relay.sign(other)) == (403, [])


def test_a_replayed_signed_post_is_refused():
    body = _body()
    signature = relay.sign(body)
    assert _post(body, signature=signature) == (204, [EVENT])
    assert _post(body, signature=signature) == (403, [])


def test_the_signature_covers_timestamp_and_nonce():
    body = _body()
    fields = dict(item.split("=", 1) for item in relay.sign(body).split(","))
    assert set(fields) == {"t", "n", "v1"}
    for changed in ({"t": str(int(fields["t"]) - 1)}, {"n": "0" * len(fields["n"])}):
        forged = ",".join(f"{k}={v}" for k, v in {**fields, **changed}.items())
        assert _post(body, signature=forged) == (403, [])


def test_a_signature_without_timestamp_and_nonce_is_refused():
    body = _body()
    old_style = relay._digest(b"", body)
    assert _post(body, signature=old_style) == (403, [])


@pytest.mark.parametrize("age", [relay.MAX_AGE_SECONDS + 5, -(relay.MAX_AGE_SECONDS + 5)])
def test_an_old_or_future_timestamp_is_refused(age):
    body = _body()
    signature = relay.sign(body, timestamp=int(time.time()) - age)
    assert _post(body, signature=signature) == (403, [])


def test_a_timestamp_within_the_window_is_accepted():
    body = _body()
    signature = relay.sign(body, timestamp=int(time.time()) - relay.MAX_AGE_SECONDS + 5)
    assert _post(body, signature=signature) == (204, [EVENT])


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.20", "2001:db8::1", "", None])
def test_requests_from_elsewhere_are_refused(address):
    assert _post(_body(), remote_addr=address) == (403, [])


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}])
def test_requests_through_a_proxy_are_refused(header):
    # A reverse proxy on the same machine connects from loopback; the client behind it is not local.
    assert _post(_body(), headers=header) == (403, [])


@pytest.mark.parametrize("body", [
    b"not json",
    b"[]",
    json.dumps({"group": GROUP}).encode(),
    json.dumps({"group": GROUP, "event": EVENT, "extra": 1}).encode(),
    _body(group="room.abc"),
    _body(group="room."),
    _body(group="room.1.2"),
    _body(group="admin.1"),
    _body(group=7),
    _body(event="room.event"),
    _body(event={"important": True}),
    _body(event={"type": ""}),
    _body(event={"type": "websocket.send bad"}),
    _body(event={"type": 3}),
])
def test_a_malformed_body_is_refused_even_when_signed(body):
    assert _post(body) == (400, [])


def test_user_groups_are_relayed_too():
    # orders.services.user_group: the buyer's order notifications, published by payment and sweep tasks.
    body = _body(group="user.42", event={"type": "order.event", "order_id": 1, "from": "reserved", "to": "paid"})
    response = Client().post(URL, body, content_type="application/json",
                             headers={relay.SIGNATURE_HEADER: relay.sign(body)})
    assert response.status_code == 204


def test_an_oversized_body_is_refused():
    body = _body(event={**EVENT, "pad": "x" * relay.MAX_BODY})
    assert _post(body) == (400, [])


def test_only_post():
    response = Client().get(URL)
    assert response.status_code == 405


def test_the_endpoint_does_not_exist_with_redis():
    body = _body()
    with override_settings(REDIS_URL="redis://127.0.0.1:6379/0"):
        assert _post(body) == (404, [])
        assert Client().get(URL).status_code == 404


# --- the sending side ----------------------------------------------------------------------------


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status

    def read(self) -> bytes:
        return b""

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _ThroughTestClient:
    """Stands in for urllib's opener: hands the request, as `relay.post` built it, to the real view, which
    checks it under the web server's SECRET_KEY (captured when the fixture is made)."""

    def __init__(self) -> None:
        self.requests: list[urllib.request.Request] = []
        self.server_secret_key = settings.SECRET_KEY

    def open(self, request: urllib.request.Request, timeout: float) -> _Response:
        self.requests.append(request)
        assert timeout <= 2
        headers = {k: v for k, v in request.header_items() if k.lower() not in ("content-type", "host")}
        with override_settings(SECRET_KEY=self.server_secret_key):
            response = async_to_sync(AsyncClient().post)(
                request.selector, request.data, content_type=request.get_header("Content-type"), headers=headers)
        if response.status_code >= 400:
            raise urllib.error.HTTPError(request.full_url, response.status_code, "refused", {}, None)
        return _Response(response.status_code)


def _send_and_receive(group: str, event: dict) -> list[dict]:
    """Call events._send as a worker would (from sync code) and collect what GROUP's subscriber gets."""

    async def go() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        try:
            await sync_to_async(events._send, thread_sensitive=False)(group, event)
            return await _drain(layer, channel)
        finally:
            await layer.group_discard(GROUP, channel)

    return async_to_sync(go)()


@pytest.fixture
def through_view(monkeypatch):  # noqa: ANN001, ANN201
    opener = _ThroughTestClient()
    monkeypatch.setattr(relay, "_opener", opener)
    return opener


def test_send_posts_to_the_relay_when_configured_and_the_view_accepts_its_signature(through_view):
    with override_settings(EVENT_RELAY_URL="http://127.0.0.1:18760/internal/events/"):
        received = _send_and_receive(GROUP, EVENT)
    assert received == [EVENT]
    (request,) = through_view.requests
    assert request.full_url == "http://127.0.0.1:18760/internal/events/" and request.get_method() == "POST"
    assert json.loads(request.data) == {"group": GROUP, "event": EVENT}
    relay.verify(request.data, request.get_header("X-zhunong-relay-signature"), remember=False)


def test_send_uses_its_own_layer_without_a_relay_url(through_view):
    assert _send_and_receive(GROUP, EVENT) == [EVENT]
    assert through_view.requests == []


def test_send_uses_its_own_layer_with_redis_even_if_a_relay_url_is_set(through_view):
    # With REDIS_URL the layer is shared; the in-memory one stands in for it here.
    with override_settings(EVENT_RELAY_URL="http://127.0.0.1:18760/internal/events/",
                           REDIS_URL="redis://127.0.0.1:6379/0"):
        assert _send_and_receive(GROUP, EVENT) == [EVENT]
    assert through_view.requests == []


def test_a_sender_with_another_secret_key_is_refused_and_does_not_raise(through_view, caplog):
    with override_settings(EVENT_RELAY_URL="http://127.0.0.1:18760/internal/events/",
                           SECRET_KEY="another deployment's key " * 3):
        received = _send_and_receive(GROUP, EVENT)
    assert received == [] and len(through_view.requests) == 1
    assert "could not relay room.event to room.987001" in caplog.text
    assert "HTTP Error 403" in caplog.text


def test_an_unreachable_relay_is_logged_not_raised(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with override_settings(EVENT_RELAY_URL=f"http://127.0.0.1:{port}/internal/events/"):
        started = time.monotonic()
        events._send(GROUP, EVENT)
    assert time.monotonic() - started < 3
    assert "could not relay room.event" in caplog.text


def test_an_event_that_is_not_json_is_logged_not_raised(caplog):
    with override_settings(EVENT_RELAY_URL="http://127.0.0.1:18760/internal/events/"):
        events._send(GROUP, {"type": "room.event", "event": object()})
    assert "could not relay room.event" in caplog.text


def test_the_host_header_is_one_allowed_hosts_accepts():
    url = "http://127.0.0.1:8000/internal/events/"
    with override_settings(ALLOWED_HOSTS=["127.0.0.1", "zhunong.example.cn"]):
        assert relay._host_header(url) == {}
    with override_settings(ALLOWED_HOSTS=[".zhunong.example.cn"]):
        assert relay._host_header(url) == {"Host": "zhunong.example.cn"}
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert relay._host_header(url) == {}


# --- zhunong serve ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", "http://127.0.0.1:8000/internal/events/"),
    ("0.0.0.0", "http://127.0.0.1:8000/internal/events/"),
    ("localhost", "http://127.0.0.1:8000/internal/events/"),
    ("::", "http://[::1]:8000/internal/events/"),
    ("[::1]", "http://[::1]:8000/internal/events/"),
    ("192.168.1.20", None),
])
def test_the_relay_url_is_this_server_over_loopback(host, expected):
    assert serve.relay_url(host=host, port=8000) == expected


def test_the_worker_gets_the_relay_url_only_without_redis():
    base = {"PATH": "/usr/bin", "ZHUNONG_EVENT_RELAY_URL": "http://elsewhere/"}
    url = "http://127.0.0.1:8000/internal/events/"
    assert serve.worker_env(base, relay_url=url, redis_url="") == {"PATH": "/usr/bin", "ZHUNONG_EVENT_RELAY_URL": url}
    assert serve.worker_env(base, relay_url=url, redis_url="redis://r/0") == {"PATH": "/usr/bin"}
    assert serve.worker_env(base, relay_url=None, redis_url="") == {"PATH": "/usr/bin"}
    # The web server delivers to its own layer; it must never relay to itself.
    assert serve.server_env(base) == {"PATH": "/usr/bin"}


class _FakePopen:
    started: list[tuple[list[str], dict]] = []

    def __init__(self, args: list[str], env: dict) -> None:
        self.args = args
        self.started.append((args, env))

    def poll(self) -> int:
        return 0  # the server "exits" at once, so handle() returns

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.mark.parametrize(("redis_url", "relayed"), [("", True), ("redis://127.0.0.1:6379/0", False)])
def test_serve_starts_the_worker_with_the_relay_url(monkeypatch, redis_url, relayed):
    from django.core.management import call_command

    _FakePopen.started = []
    monkeypatch.setattr(serve.subprocess, "Popen", _FakePopen)
    monkeypatch.setattr(serve.signal, "signal", lambda *a: None)
    monkeypatch.setenv("ZHUNONG_EVENT_RELAY_URL", "http://stale/")
    with override_settings(REDIS_URL=redis_url):
        call_command("serve", "--port", "18763", "--no-media")
    (worker_args, worker_env), (server_args, server_env) = _FakePopen.started
    assert worker_args == serve.worker_command()
    assert "uvicorn" in server_args
    assert "ZHUNONG_EVENT_RELAY_URL" not in server_env
    if relayed:
        assert worker_env["ZHUNONG_EVENT_RELAY_URL"] == "http://127.0.0.1:18763/internal/events/"
    else:
        assert "ZHUNONG_EVENT_RELAY_URL" not in worker_env


# --- end to end: `zhunong serve`, a room, a flash sale the worker starts --------------------------

PORTS = range(18764, 18780)

_SEED_ROOM = """
import django
django.setup()
from zhunong.testing import build_world
world = build_world()
product = world.listed_product(name="安化黑茶", price="39.90", cost_floor="20.00", stock=50)
room = world.live_room([product], kind="county_head", pin=product)
print(room.stream.pk, product.pk, room.host_user.pk)
"""

_START_SALE = """
import sys
import django
django.setup()
from zhunong.accounts.models import User
from zhunong.catalog.models import Product
from zhunong.live.models import Stream
from zhunong.orders import services
stream_id, product_id, host_id = map(int, sys.argv[1:4])
sale = services.start_flash_sale(actor=User.objects.get(pk=host_id), stream=Stream.objects.get(pk=stream_id),
                                 product=Product.objects.get(pk=product_id), quantity=5, sale_price="29.90",
                                 per_buyer_limit=1, countdown_seconds=10, duration_minutes=5)
print(sale.pk)
"""


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18764-18779")


def _script(code: str, env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_flash_sale_started_by_the_worker_reaches_a_viewer_of_the_web_server(tmp_path):
    from websockets.sync.client import connect

    port = _free_port()
    # Demo mode, as the tests run: the test world's host records a (fake) ID number, whose keys only demo mode
    # derives from SECRET_KEY.
    env = dict(os.environ, ZHUNONG_VAR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/relay.sqlite3",
               DJANGO_SETTINGS_MODULE="zhunong.settings", ZHUNONG_DEMO="1")
    for name in ("REDIS_URL", "ZHUNONG_EVENT_RELAY_URL", "HUEY_IMMEDIATE"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "zhunong.cli", "migrate", "-v0"], env=env, check=True, timeout=120)
    stream_id, product_id, host_id = _script(_SEED_ROOM, env).split()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "zhunong.cli", "serve", "--port", str(port), "--no-media"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        with connect(f"ws://127.0.0.1:{port}/ws/rooms/{stream_id}/", origin=f"http://127.0.0.1:{port}",
                     compression=None, open_timeout=10) as ws:
            welcome = json.loads(ws.recv(timeout=10))
            assert welcome["t"] == "welcome" and welcome["stream"]["status"] == "live"
            # Another process starts the sale, as the host's request would; its countdown ends in the
            # worker (sync_sale_task, scheduled for the start), which publishes "started".
            sale_id = int(_script(_START_SALE, env, stream_id, product_id, host_id))
            seen: list[dict] = []
            started = False
            deadline = time.monotonic() + 40
            while not started and time.monotonic() < deadline:
                try:
                    frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                except TimeoutError:
                    break
                items = frame["events"] if frame.get("t") == "batch" else [frame]
                seen.extend(items)
                started = any(e.get("t") == "sale" and e.get("event") == "started"
                              and e.get("flash_sale_id") == sale_id for e in items)
            assert started, (seen, (tmp_path / "serve.log").read_text()[-3000:])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
