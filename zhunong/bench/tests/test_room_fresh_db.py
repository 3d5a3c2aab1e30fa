"""`zhunong bench room` on an empty database: it creates its own schema, as `bench flash-sale` does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

PORT_BASE = 20150  # the server listens on PORT_BASE + 1


@pytest.mark.slow
def test_bench_room_runs_on_a_fresh_database(tmp_path):
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", PORT_BASE + 1)) == 0:
            pytest.fail(f"port {PORT_BASE + 1} is in use")
    db = tmp_path / "fresh.sqlite3"
    env = dict(os.environ, ZHUNONG_VAR=str(tmp_path), DATABASE_URL=f"sqlite:///{db}", ZHUNONG_DEMO="1",
               DJANGO_SETTINGS_MODULE="zhunong.settings")
    for name in ("REDIS_URL", "ZHUNONG_EVENT_RELAY_URL", "HUEY_IMMEDIATE"):
        env.pop(name, None)
    assert not db.exists()
    done = subprocess.run(
        [sys.executable, "-m", "zhunong.cli", "bench", "room", "--viewers", "2", "--chat-rate", "1", "--seconds", "3",
         "--arrivals", "3", "--arrival-after", "0", "--arrival-seconds", "0.5",
         "--pin-every", "0.5", "--port-base", str(PORT_BASE), "--json"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["viewers"] == 2 and result["connect_failures"] == 0
    assert result["machine"]["database"] == "sqlite3"
    # The crowd's arrival: each of the 3 loaded the room page, opened the websocket and was welcomed.
    arrival = result["arrival"]
    assert arrival["welcomed"] == 3 and arrival["refused"] == 0 and arrival["unanswered"] == 0
    assert arrival["welcome_ms"]["p99"] is not None and arrival["page_ms"]["p99"] <= arrival["welcome_ms"]["p99"]
