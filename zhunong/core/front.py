"""The HTTP front: nginx in front of the app servers, with a one-second shared cache (microcache) for the
pages the app marks public (core/publiccache.py), generated from settings like the media server's config
(video/media.py). docs/deploy.md "The front" and docs/decisions/0022-the-front-cache.md.

Settings (Django settings override environment variables, which override the defaults):
`ZHUNONG_FRONT_LISTEN` / `ZHUNONG_FRONT_PORT` where nginx listens (127.0.0.1:8080),
`ZHUNONG_FRONT_UPSTREAMS` the app servers, comma-separated host:port (127.0.0.1:8000),
`ZHUNONG_FRONT_DIR` nginx's own files: config, pid, error log, cache, temp (var/front),
`ZHUNONG_FRONT_WORKERS` nginx worker processes (auto), `ZHUNONG_FRONT_CACHE_MB` the cache's size on disk
(1024), `ZHUNONG_FRONT_TLS_CERTIFICATE` / `ZHUNONG_FRONT_TLS_KEY` to listen with TLS (both, or neither).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import publiccache

MIME_TYPES = Path("/etc/nginx/mime.types")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/\[\]-]+$")


def _get(name: str, default: str) -> str:
    if hasattr(settings, name):
        return str(getattr(settings, name))
    raw = os.environ.get(name, "").strip()
    return raw or default


@dataclass(frozen=True)
class FrontSettings:
    listen: str
    port: int
    upstreams: tuple[str, ...]
    directory: Path
    workers: str
    cache_mb: int
    tls_certificate: str
    tls_key: str
    nginx_bin: str


def front_settings() -> FrontSettings:
    s = FrontSettings(
        listen=_get("ZHUNONG_FRONT_LISTEN", "127.0.0.1"),
        port=int(_get("ZHUNONG_FRONT_PORT", "8080")),
        upstreams=tuple(u.strip() for u in _get("ZHUNONG_FRONT_UPSTREAMS", "127.0.0.1:8000").split(",") if u.strip()),
        directory=Path(_get("ZHUNONG_FRONT_DIR", str(settings.VAR_DIR / "front"))).resolve(),
        workers=_get("ZHUNONG_FRONT_WORKERS", "auto"),
        cache_mb=int(_get("ZHUNONG_FRONT_CACHE_MB", "1024")),
        tls_certificate=_get("ZHUNONG_FRONT_TLS_CERTIFICATE", ""),
        tls_key=_get("ZHUNONG_FRONT_TLS_KEY", ""),
        nginx_bin=_get("ZHUNONG_FRONT_NGINX", "nginx"),
    )
    for label, value in (("ZHUNONG_FRONT_LISTEN", s.listen), ("ZHUNONG_FRONT_WORKERS", s.workers),
                         ("ZHUNONG_FRONT_TLS_CERTIFICATE", s.tls_certificate or "-"),
                         ("ZHUNONG_FRONT_TLS_KEY", s.tls_key or "-"), *(("ZHUNONG_FRONT_UPSTREAMS", u) for u in s.upstreams)):
        if not _SAFE.match(value):
            raise ValueError(f"{label}: {value!r} is not a plain address, number or path")
    if not s.upstreams:
        raise ValueError("ZHUNONG_FRONT_UPSTREAMS: at least one app server (host:port)")
    if bool(s.tls_certificate) != bool(s.tls_key):
        raise ValueError("ZHUNONG_FRONT_TLS_CERTIFICATE and ZHUNONG_FRONT_TLS_KEY go together")
    if not (0 < s.port < 65536) or s.cache_mb < 1:
        raise ValueError("ZHUNONG_FRONT_PORT must be a port, ZHUNONG_FRONT_CACHE_MB at least 1")
    return s


def config_path(s: FrontSettings | None = None) -> Path:
    return (s or front_settings()).directory / "nginx.conf"


def _alternation(patterns: tuple[str, ...]) -> str:
    """One nginx regex matching any of the given anchored patterns."""
    inner = "|".join(p.removeprefix("^").removesuffix("$") for p in patterns)
    return f'"^(?:{inner})$"'


def _personal_regex() -> str:
    """`<session cookie>:<path>` with a cookie, on a page whose signed-in version is personal."""
    inner = "|".join(p.removeprefix("^").removesuffix("$") for p in publiccache.ANONYMOUS_ONLY_PATHS)
    return f'"~^[^:]+:(?:{inner})$"'


def _language_map() -> str:
    """The language cookie as Django would read it, for the cache key (the rest varies by Accept-Language)."""
    lines = []
    for code, _name in settings.LANGUAGES:
        prefix = re.escape(code.split("-")[0])
        lines.append(f"        ~*^{prefix}(?:$|-) {code};")
    return "\n".join(lines)


def _proxy_headers(indent: str) -> str:
    return "\n".join(indent + line for line in (
        "proxy_http_version 1.1;",
        "proxy_set_header Host $host;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        # Only the front says which language it keyed a page under; a client's own header is replaced.
        "proxy_set_header X-Zhunong-Language-Key $zh_language;",
    ))


def render_config(s: FrontSettings | None = None) -> str:
    """A complete nginx.conf, run in the foreground by `zhunong front run` (or by systemd with `nginx -c`)."""
    s = s or front_settings()
    d = s.directory
    temp = d / "temp"
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    types = f"include {MIME_TYPES};" if MIME_TYPES.is_file() else (
        "types { text/html html; text/css css; application/javascript js; image/svg+xml svg; image/png png; "
        "image/jpeg jpg; application/json json; }")
    servers = "\n".join(f"        server {u};" for u in s.upstreams)
    listen = f"{s.listen}:{s.port}" if ":" not in s.listen else f"[{s.listen.strip('[]')}]:{s.port}"
    tls = ""
    if s.tls_certificate:
        listen += " ssl http2"  # nginx 1.22 (Debian 12) spells HTTP/2 on the listen line
        tls = f"\n        ssl_certificate {s.tls_certificate};\n        ssl_certificate_key {s.tls_key};"
    session_cookie = re.sub(r"[^A-Za-z0-9_]", "_", settings.SESSION_COOKIE_NAME)
    language_cookie = re.sub(r"[^A-Za-z0-9_]", "_", settings.LANGUAGE_COOKIE_NAME)
    static_root = Path(settings.STATIC_ROOT).resolve()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    return f"""# Generated by `zhunong front config` from the ZHUNONG_FRONT_* settings; regenerate instead of editing.
# The HTTP front: static files, a one-second cache for the pages the app marks public, everything else
# (and websockets) straight to the app servers. docs/deploy.md "The front", docs/decisions/0022.
daemon off;
master_process on;
worker_processes {s.workers};
{user}
pid {d / "nginx.pid"};
error_log {d / "error.log"} warn;

events {{
    worker_connections 8192;
}}

http {{
    {types}
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_max_body_size 25m;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};

    # Pages live here for about a second (the app's X-Accel-Expires); `inactive` drops what nobody asks for.
    proxy_cache_path {d / "cache"} levels=1:2 keys_zone=zhunong_pages:32m max_size={s.cache_mb}m inactive=1m use_temp_path=off;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" "";
    }}
    # The language the app will answer in when the language cookie decides it (else Accept-Language
    # decides, and the app's `Vary: Accept-Language` keeps one copy per header value).
    map $cookie_{language_cookie} $zh_language {{
        default "";
{_language_map()}
    }}
    # Pages whose signed-in version differs (the live room's chat box): not from the cache for a session.
    map $cookie_{session_cookie}:$uri $zh_personal {{
        default 0;
        {_personal_regex()} 1;
    }}

    upstream zhunong {{
{servers}
        keepalive 64;
    }}

    server {{
        listen {listen} backlog=4096;
        server_name _;{tls}

        location /static/ {{ alias {static_root}/; expires 7d; }}
        location /media/ {{ alias {media_root}/; add_header X-Content-Type-Options nosniff; }}
        # Loopback-only endpoints: the media server's callbacks and the worker's event relay.
        location /video/rtmp/ {{ return 404; }}
        location /internal/ {{ return 404; }}

        # The pages and API reads the app may mark public (core/publiccache.py CACHED_PATHS).
        location ~ {_alternation(publiccache.CACHED_PATHS)} {{
            proxy_pass http://zhunong;
{_proxy_headers("            ")}
            proxy_cache zhunong_pages;
            proxy_cache_key "$scheme$host$request_uri|$zh_language";
            # Only the app's X-Accel-Expires makes a response cacheable; one that sets a cookie never is.
            proxy_ignore_headers Cache-Control Expires;
            proxy_cache_bypass $zh_personal;
            proxy_no_cache $zh_personal;
            # A crowd on an expired page: one request refreshes it, the others get the copy being replaced.
            proxy_cache_use_stale updating;
            # The request that finds the page expired waits for the fresh one (background updates would
            # hand it a copy as old as the time since the page was last asked for).
            proxy_cache_background_update off;
            # A crowd on a page not in the cache yet: one request fetches it, the others wait for it.
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            add_header X-Cache $upstream_cache_status always;
        }}

        # Everything else, websockets included: straight through, never cached.
        location / {{
            proxy_pass http://zhunong;
{_proxy_headers("            ")}
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def write_config(s: FrontSettings | None = None) -> Path:
    s = s or front_settings()
    for directory in (s.directory, s.directory / "temp", s.directory / "cache"):
        directory.mkdir(parents=True, exist_ok=True)
    path = config_path(s)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render_config(s))
    tmp.replace(path)
    return path


def nginx_installed(s: FrontSettings | None = None) -> bool:
    return shutil.which((s or front_settings()).nginx_bin) is not None


def check_config(path: Path, s: FrontSettings | None = None) -> tuple[bool, str]:
    s = s or front_settings()
    proc = subprocess.run([s.nginx_bin, "-t", "-q", "-c", str(path), "-p", str(s.directory)],
                          capture_output=True, text=True, timeout=30)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def start(s: FrontSettings | None = None, **popen) -> subprocess.Popen:  # noqa: ANN003
    """Write and check the config, then start nginx in the foreground (the caller owns the process)."""
    s = s or front_settings()
    path = write_config(s)
    ok, message = check_config(path, s)
    if not ok:
        raise RuntimeError(f"nginx rejects the generated front configuration: {message}")
    return subprocess.Popen([s.nginx_bin, "-c", str(path), "-p", str(s.directory)], **popen)
