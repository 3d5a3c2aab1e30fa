"""The front's generated nginx configuration (core/front.py) and `zhunong front config`."""

from __future__ import annotations

import dataclasses
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import resolve, reverse

from zhunong.core import front, publiccache

needs_nginx = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


@pytest.fixture
def fs(tmp_path):  # noqa: ANN001, ANN201
    return dataclasses.replace(front.front_settings(), directory=tmp_path / "front", port=30799,
                               upstreams=("127.0.0.1:8001", "127.0.0.1:8002"))


def test_the_config_caches_only_the_public_paths_and_passes_the_rest(fs) -> None:  # noqa: ANN001
    conf = front.render_config(fs)
    assert "server 127.0.0.1:8001;" in conf and "server 127.0.0.1:8002;" in conf
    assert "listen 127.0.0.1:30799" in conf
    # Exactly one location uses the cache, and it is the public paths' regex location.
    assert conf.count("proxy_cache zhunong_pages;") == 1
    cached_location = conf[conf.index("location ~ \"^(?:/|"):conf.index("# Everything else")]
    assert "proxy_cache zhunong_pages;" in cached_location
    for directive in ("proxy_cache_use_stale updating;", "proxy_cache_lock on;", "proxy_ignore_headers Cache-Control Expires;",
                      "proxy_cache_bypass $zh_personal;", "proxy_no_cache $zh_personal;",
                      'proxy_cache_key "$scheme$host$request_uri|$zh_language";'):
        assert directive in cached_location, directive
    # Set-Cookie is not ignored: nginx never stores a response that sets a cookie.
    assert "Set-Cookie" not in conf
    # Websockets and every other path go straight through.
    rest = conf[conf.index("# Everything else"):]
    assert "proxy_cache " not in rest and "proxy_set_header Upgrade $http_upgrade;" in rest
    assert "location /internal/ { return 404; }" in conf and "location /video/rtmp/ { return 404; }" in conf


def _nginx_regex(conf: str) -> re.Pattern:
    return re.compile(re.search(r'location ~ "([^"]+)"', conf).group(1))


@pytest.mark.django_db
def test_cached_paths_and_public_pages_agree(fs, world) -> None:  # noqa: ANN001
    """Every public page's URL is looked up in the cache, and every path that is looked up is a public page
    or API read (so nginx never locks or caches a personal page)."""
    regex = _nginx_regex(front.render_config(fs))
    product = world.listed_product()
    room = world.live_room([product])
    batch_code = "ABC123"
    samples = {
        "storefront:home": reverse("storefront:home"),
        "storefront:product": reverse("storefront:product", args=[product.pk]),
        "storefront:search": reverse("storefront:search"),
        "video:replays": reverse("video:replays"),
        "quality:lookup": reverse("quality:lookup"),
        "quality:trace": reverse("quality:trace", args=[batch_code]),
        "live:room": reverse("live:room", args=[room.stream.pk]),
    }
    assert set(samples) == publiccache.PUBLIC_PAGES | publiccache.ANONYMOUS_ONLY
    for name, path in samples.items():
        assert regex.match(path), path
        assert resolve(path).view_name == name
    for path in ["/api/v1/products", f"/api/v1/products/{product.pk}", "/api/v1/live/streams", "/api/v1/live/channels"]:
        assert regex.match(path), path
    for path in ["/orders/", "/me/nav/", "/accounts/login/", f"/live/{room.stream.pk}/console/", "/api/v1/orders",
                 "/t/ABC/qr.svg", "/ws/rooms/1/", "/static/x.css", "/p/1/extra/", "/live/manage/"]:
        assert not regex.match(path), path
    personal = re.search(r'"~(\^\[\^:\]\+:[^"]+)" 1;', front.render_config(fs)).group(1)
    assert re.match(personal, f"abc123:/live/{room.stream.pk}/")
    assert not re.match(personal, f":/live/{room.stream.pk}/")  # no session cookie: cached
    assert not re.match(personal, "abc123:/")  # the home page is shared with signed-in viewers too


def test_the_language_map_follows_django(fs) -> None:  # noqa: ANN001
    conf = front.render_config(fs)
    assert "map $cookie_django_language $zh_language" in conf
    assert "~*^en(?:$|-) en;" in conf and "~*^zh(?:$|-) zh-hans;" in conf


def test_bad_settings_are_refused(settings) -> None:  # noqa: ANN001
    settings.ZHUNONG_FRONT_UPSTREAMS = "127.0.0.1:8000; include /etc/passwd"
    with pytest.raises(ValueError, match="ZHUNONG_FRONT_UPSTREAMS"):
        front.front_settings()
    settings.ZHUNONG_FRONT_UPSTREAMS = "127.0.0.1:8000"
    settings.ZHUNONG_FRONT_TLS_CERTIFICATE = "/etc/ssl/front.pem"
    with pytest.raises(ValueError, match="go together"):
        front.front_settings()
    with pytest.raises(CommandError, match="go together"):
        call_command("front", "config")


def test_tls_listens_with_http2(fs) -> None:  # noqa: ANN001
    conf = front.render_config(dataclasses.replace(fs, tls_certificate="/etc/ssl/a.pem", tls_key="/etc/ssl/a.key"))
    assert "listen 127.0.0.1:30799 ssl http2 backlog=4096;" in conf
    assert "ssl_certificate /etc/ssl/a.pem;" in conf and "ssl_certificate_key /etc/ssl/a.key;" in conf


@needs_nginx
def test_nginx_accepts_the_generated_config(fs) -> None:  # noqa: ANN001
    path = front.write_config(fs)
    ok, message = front.check_config(path, fs)
    assert ok, message


@needs_nginx
def test_front_config_command_writes_checks_and_prints_the_path(settings, tmp_path) -> None:  # noqa: ANN001
    settings.ZHUNONG_FRONT_DIR = str(tmp_path / "f")
    settings.ZHUNONG_FRONT_PORT = 30798
    out = StringIO()
    call_command("front", "config", stdout=out)
    path = out.getvalue().strip().splitlines()[-1]
    assert path == str(tmp_path / "f" / "nginx.conf")
    assert "listen 127.0.0.1:30798" in Path(path).read_text()
