"""Fixtures for video tests: private storage and callback token, and a scheduled stream with a verified host."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

TOKEN = "test-callback-token"


@pytest.fixture
def video_dirs(tmp_path, settings):  # noqa: ANN001, ANN201
    root = tmp_path / "video"
    settings.VIDEO_ROOT = str(root)
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "media")
    settings.VIDEO_CALLBACK_TOKEN = TOKEN
    settings.VIDEO_CALLBACK_ALLOW = "127.0.0.1"
    settings.VIDEO_GRACE_SECONDS = 15
    # Ports in this suite's own range, so a "drop publisher" call never reaches someone's running nginx.
    settings.VIDEO_HTTP_PORT = 18698
    settings.VIDEO_RTMP_PORT = 19359
    for sub in ("records", "hls", "replays"):
        (root / sub).mkdir(parents=True)
    return root


@pytest.fixture
def vroom(world, video_dirs):  # noqa: ANN001, ANN201
    return world.live_room(status="scheduled")


@pytest.fixture
def key(vroom):  # noqa: ANN001, ANN201
    from zhunong.video.services import ensure_ingest

    return ensure_ingest(stream=vroom.stream).stream_key


def form(call: str = "publish", *, name: str = "", clientid: str = "7", app: str = "ingest", **extra) -> dict:  # noqa: ANN003
    data = {"app": app, "flashver": "FMLE/3.0 (compatible; Lavf59.27", "swfurl": "",
            "tcurl": "rtmp://127.0.0.1:1935/ingest", "pageurl": "", "addr": "192.0.2.10", "clientid": clientid,
            "call": call, "name": name}
    if call == "publish":
        data["type"] = "live"
    data.update(extra)
    return data


def callback(client, event: str, data, *, token: str = TOKEN, remote: str = "127.0.0.1"):  # noqa: ANN001, ANN201
    body = data if isinstance(data, str) else urlencode(data, doseq=True)
    return client.post(f"/video/rtmp/{event}?{urlencode({'token': token})}", data=body,
                       content_type="application/x-www-form-urlencoded", REMOTE_ADDR=remote)


@pytest.fixture(autouse=True)
def _huey_in_memory():  # noqa: ANN202
    """Tasks the services enqueue stay in this process (tests call the task functions themselves)."""
    from huey.contrib.djhuey import HUEY

    old = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = old
