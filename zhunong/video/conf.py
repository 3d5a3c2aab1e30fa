"""Video settings: Django settings `VIDEO_*` override environment variables, which override defaults.

Read through `video_settings()` on every use (not at import), so tests can override them and the media
server's generated config always matches what the platform checks.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def _get(name: str, default: object) -> object:
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return type(default)(raw.strip()) if isinstance(default, int | float) else raw.strip()


@dataclass(frozen=True)
class VideoSettings:
    # Where nginx listens. RTMP must be reachable by hosts' phones/OBS in production (0.0.0.0).
    rtmp_listen: str
    rtmp_port: int
    http_listen: str
    http_port: int
    # Applications inside the RTMP server: hosts publish to `ingest_app` with their secret key; the
    # platform renames the stream to its id and nginx relays it into `live_app`, which makes the HLS.
    ingest_app: str
    live_app: str
    # What hosts type into OBS/the phone app, and where players fetch playlists and replays.
    public_rtmp_url: str
    hls_base_url: str
    media_base_url: str
    # How nginx reaches the platform (plain HTTP: nginx-rtmp cannot call HTTPS).
    callback_base_url: str
    callback_token: str
    callback_allow: tuple[str, ...]
    stat_url: str
    control_url: str
    # Edge servers: addresses allowed to pull RTMP from the live application, and RTMP URLs the origin
    # pushes every live stream to (docs/deploy.md).
    edge_allow: tuple[str, ...]
    edge_push: tuple[str, ...]
    # Who may read the stat page and use the control endpoint (the platform's monitor and callbacks).
    stat_allow: tuple[str, ...]
    # Publishing rules.
    grace_seconds: int
    publish_early_minutes: int
    publish_late_minutes: int
    update_seconds: int
    # HLS output.
    hls_fragment: int
    hls_playlist_length: int
    # Storage.
    root: Path
    record_dir: Path
    hls_dir: Path
    replay_dir: Path
    # nginx's own files: generated config (with the callback token), pid, error log, temp directories.
    # Private: never inside MEDIA_ROOT, STATIC_ROOT or a folder nginx serves (video.checks, video.E001).
    media_dir: Path
    retention_days: int
    # Programs.
    nginx_bin: str
    rtmp_module: str
    ffmpeg_bin: str
    ffprobe_bin: str

    @property
    def callback_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        nets = []
        for item in self.callback_allow:
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue  # a typo in the allow-list must not open it; the entry is simply ignored
        return nets


def video_settings() -> VideoSettings:
    var_dir = Path(settings.VAR_DIR)
    root = Path(str(_get("VIDEO_ROOT", str(var_dir / "video"))))
    rtmp_port = int(_get("VIDEO_RTMP_PORT", 1935))
    http_port = int(_get("VIDEO_HTTP_PORT", 8935))
    http_listen = str(_get("VIDEO_HTTP_LISTEN", "127.0.0.1"))
    local_http = f"http://127.0.0.1:{http_port}"
    token_default = hmac.new(settings.SECRET_KEY.encode(), b"video.callback", hashlib.sha256).hexdigest()[:32]
    allow = str(_get("VIDEO_CALLBACK_ALLOW", "127.0.0.1"))
    return VideoSettings(
        rtmp_listen=str(_get("VIDEO_RTMP_LISTEN", "127.0.0.1")),
        rtmp_port=rtmp_port,
        http_listen=http_listen,
        http_port=http_port,
        ingest_app=str(_get("VIDEO_INGEST_APP", "ingest")),
        live_app=str(_get("VIDEO_LIVE_APP", "live")),
        public_rtmp_url=str(_get("VIDEO_PUBLIC_RTMP_URL", f"rtmp://127.0.0.1:{rtmp_port}/"
                                 f"{_get('VIDEO_INGEST_APP', 'ingest')}")).rstrip("/"),
        hls_base_url=str(_get("VIDEO_HLS_BASE_URL", f"{local_http}/hls")).rstrip("/"),
        media_base_url=str(_get("VIDEO_MEDIA_BASE_URL", local_http)).rstrip("/"),
        callback_base_url=str(_get("VIDEO_CALLBACK_BASE_URL", "http://127.0.0.1:8000")).rstrip("/"),
        callback_token=str(_get("VIDEO_CALLBACK_TOKEN", token_default)),
        callback_allow=tuple(a.strip() for a in allow.split(",") if a.strip()),
        stat_url=str(_get("VIDEO_STAT_URL", f"{local_http}/stat")),
        control_url=str(_get("VIDEO_CONTROL_URL", f"{local_http}/control")).rstrip("/"),
        edge_allow=tuple(a.strip() for a in str(_get("VIDEO_EDGE_ALLOW", "")).split(",") if a.strip()),
        stat_allow=tuple(a.strip() for a in str(_get("VIDEO_STAT_ALLOW", "127.0.0.1")).split(",") if a.strip()),
        edge_push=tuple(u.strip() for u in str(_get("VIDEO_EDGE_PUSH", "")).split(",") if u.strip()),
        grace_seconds=int(_get("VIDEO_GRACE_SECONDS", 15)),
        publish_early_minutes=int(_get("VIDEO_PUBLISH_EARLY_MINUTES", 30)),
        publish_late_minutes=int(_get("VIDEO_PUBLISH_LATE_MINUTES", 120)),
        update_seconds=int(_get("VIDEO_UPDATE_SECONDS", 10)),
        hls_fragment=int(_get("VIDEO_HLS_FRAGMENT", 2)),
        hls_playlist_length=int(_get("VIDEO_HLS_PLAYLIST_LENGTH", 12)),
        root=root,
        record_dir=Path(str(_get("VIDEO_RECORD_DIR", str(root / "records")))),
        hls_dir=Path(str(_get("VIDEO_HLS_DIR", str(root / "hls")))),
        replay_dir=Path(str(_get("VIDEO_REPLAY_DIR", str(root / "replays")))),
        media_dir=Path(str(_get("VIDEO_MEDIA_DIR", str(var_dir / "mediaserver")))),
        retention_days=int(_get("VIDEO_RETENTION_DAYS", int(getattr(settings, "RECORD_RETENTION_DAYS", 3 * 365)))),
        nginx_bin=str(_get("VIDEO_NGINX", "nginx")),
        rtmp_module=str(_get("VIDEO_RTMP_MODULE", "/usr/lib/nginx/modules/ngx_rtmp_module.so")),
        ffmpeg_bin=str(_get("VIDEO_FFMPEG", "ffmpeg")),
        ffprobe_bin=str(_get("VIDEO_FFPROBE", "ffprobe")),
    )
