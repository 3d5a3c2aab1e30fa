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
