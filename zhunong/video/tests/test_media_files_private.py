"""The media server's own files (generated config with the callback token, error log, pid) are never
reachable over HTTP: not under MEDIA_ROOT (served at /media/ by Django or the front nginx), STATIC_ROOT, nor
the HLS/replay folders the media server itself serves."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import Error

from zhunong.video import checks, media
from zhunong.video.conf import video_settings


@pytest.fixture
def default_media_dir(settings):  # noqa: ANN001, ANN201
    for name in ("VIDEO_MEDIA_DIR", "VIDEO_ROOT"):
        if hasattr(settings, name):
            delattr(settings, name)
    settings.VIDEO_CALLBACK_TOKEN = "not-for-the-public-0123456789"
    written: list[Path] = []
    yield written
    for path in written:
        path.unlink(missing_ok=True)


def test_config_log_and_pid_are_not_served_at_media(client, default_media_dir):  # noqa: ANN001
    config = media.write_config()
    default_media_dir.append(config)
    assert "token=not-for-the-public" in config.read_text()
    for name in ("error.log", "nginx.pid"):
        path = config.parent / name
        if not path.exists():
            path.write_text("12345\n")
            default_media_dir.append(path)
    for name in ("nginx.conf", "error.log", "nginx.pid", "temp/"):
        response = client.get(f"/media/{name}")
        assert response.status_code == 404, name
        assert b"not-for-the-public" not in response.content


def test_default_media_dir_is_outside_everything_served(settings, default_media_dir):  # noqa: ANN001
    s = video_settings()
    private = Path(s.media_dir).resolve()
    for served in (settings.MEDIA_ROOT, settings.STATIC_ROOT, s.hls_dir, s.replay_dir):
        served = Path(served).resolve()
        assert private != served and not private.is_relative_to(served), served
    assert checks.check_media_paths(None) == []


@pytest.mark.parametrize("where", ["media_root", "hls", "replays", "static"])
def test_a_media_dir_inside_a_served_folder_fails_the_system_check(settings, tmp_path, where):  # noqa: ANN001
    settings.MEDIA_ROOT = str(tmp_path / "public")
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.VIDEO_ROOT = str(tmp_path / "video")
    inside = {"media_root": tmp_path / "public", "hls": tmp_path / "video" / "hls",
              "replays": tmp_path / "video" / "replays", "static": tmp_path / "static"}[where]
    settings.VIDEO_MEDIA_DIR = str(inside / "nginx")
    errors = checks.check_media_paths(None)
    assert [e.id for e in errors] == ["video.E001"]
    assert isinstance(errors[0], Error)


def test_recordings_inside_media_root_fail_the_system_check(settings, tmp_path):  # noqa: ANN001
    settings.MEDIA_ROOT = str(tmp_path / "public")
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "mediaserver")
    settings.VIDEO_RECORD_DIR = str(tmp_path / "public" / "records")
    assert [e.id for e in checks.check_media_paths(None)] == ["video.E001"]


def test_write_config_removes_the_files_an_older_version_left_in_media_root(settings, tmp_path):  # noqa: ANN001
    settings.MEDIA_ROOT = str(tmp_path / "public")
    settings.VIDEO_MEDIA_DIR = str(tmp_path / "mediaserver")
    settings.VIDEO_ROOT = str(tmp_path / "video")
    old = tmp_path / "public"
    (old / "temp" / "body").mkdir(parents=True)
    (old / "products").mkdir()
    (old / "products" / "a.jpg").write_bytes(b"jpeg")
    for name in ("nginx.conf", "error.log", "nginx.pid"):
        (old / name).write_text("token=old")
    media.write_config()
    assert sorted(p.name for p in old.iterdir()) == ["products"]
    assert (old / "products" / "a.jpg").exists()
