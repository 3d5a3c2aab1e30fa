"""`zhunong serve` starts the ASGI server and the worker, and stops all of them on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_and_stops_with_its_children_on_sigterm(tmp_path):
    port = _free_port()
    env = dict(os.environ, ZHUNONG_VAR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/serve.sqlite3")
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "zhunong.cli", "migrate", "-v0"], env=env, check=True)
    proc = subprocess.Popen([sys.executable, "-m", "zhunong.cli", "serve", "--port", str(port), "--no-media"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize(("environ", "host", "port", "expected"), [
    ({}, "127.0.0.1", 18800, "http://127.0.0.1:18800"),
    ({}, "0.0.0.0", 18800, "http://127.0.0.1:18800"),  # noqa: S104 (the host given to serve, not a bind)
    ({}, "localhost", 8000, "http://127.0.0.1:8000"),
    ({}, "::", 9000, "http://[::1]:9000"),
    ({}, "192.168.1.20", 8080, "http://192.168.1.20:8080"),
    ({"PUBLIC_BASE_URL": "https://shop.example/"}, "127.0.0.1", 18800, "https://shop.example"),
])
def test_public_base_url_follows_the_served_port_unless_set(environ, host, port, expected):
    from zhunong.demo.management.commands.serve import public_base_url

    assert public_base_url(environ, host=host, port=port) == expected


def test_serve_hands_the_derived_public_base_url_to_server_and_worker(monkeypatch):
    """`make demo PORT=18800`: the web server and the worker (which sends the sandbox webhooks) both get :18800."""
    from django.core.management import call_command

    from zhunong.demo.management.commands import serve

    started: list[dict] = []

    class FakeProcess:
        def __init__(self, args, env=None, **_):  # noqa: ANN001, ANN003
            started.append(env)

        def poll(self) -> int:
            return 0

        def wait(self, timeout=None) -> int:  # noqa: ANN001
            return 0

        def terminate(self) -> None:
            pass

    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setattr(serve.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(serve.signal, "signal", lambda *_: None)  # keep pytest's own SIGINT handler
    call_command("serve", "--port", "18800", "--no-media")
    assert len(started) == 2  # worker and web server
    assert all(env["PUBLIC_BASE_URL"] == "http://127.0.0.1:18800" for env in started)
