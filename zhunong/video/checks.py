"""System checks of the video settings (`zhunong check`, and every management command that runs checks).

video.E001: the media server's private files (its generated config with the callback token, pid, error
log, temp files; the raw recordings) must not sit in a folder something serves over HTTP: MEDIA_ROOT (Django's
/media/ or the front nginx's), STATIC_ROOT, or the HLS and replay folders the media server itself serves.
video.E002: VIDEO_RETENTION_DAYS of at least three years (live.streams.MIN_RETENTION_DAYS), like
RECORD_RETENTION_DAYS (live.E001): recordings and replays are live-stream records.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error

from zhunong.core.errors import ValidationFailed
from zhunong.live.streams import MIN_RETENTION_DAYS, check_retention_days

from .conf import video_settings


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or path.is_relative_to(folder)


def check_media_paths(app_configs, **kwargs) -> list[CheckMessage]:  # noqa: ANN001, ANN003
    s = video_settings()
    served = {"MEDIA_ROOT": Path(settings.MEDIA_ROOT), "STATIC_ROOT": Path(settings.STATIC_ROOT),
              "VIDEO_HLS_DIR": s.hls_dir, "VIDEO_REPLAY_DIR": s.replay_dir}
    private = {"VIDEO_MEDIA_DIR": s.media_dir, "VIDEO_RECORD_DIR": s.record_dir}
    errors: list[CheckMessage] = []
    for name, path in private.items():
        for served_name, folder in served.items():
            if _inside(path, folder):
                errors.append(Error(
                    f"{name} ({path}) is inside {served_name} ({folder}), which is served over HTTP: the media "
                    "server's config (with the callback token), logs and recordings would be public.",
                    hint=f"Point {name} at a folder nothing serves (the default is under var/).",
                    id="video.E001",
                ))
    return errors


def check_retention(app_configs, **kwargs) -> list[CheckMessage]:  # noqa: ANN001, ANN003
    try:
        check_retention_days(video_settings().retention_days, field="VIDEO_RETENTION_DAYS")
    except ValidationFailed as exc:
        return [Error(exc.message, hint=f"Set VIDEO_RETENTION_DAYS to {MIN_RETENTION_DAYS} or more, or leave it "
                      "unset (it follows RECORD_RETENTION_DAYS).", id="video.E002")]
    return []
