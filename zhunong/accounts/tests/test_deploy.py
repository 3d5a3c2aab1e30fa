"""Production settings: `manage.py check --deploy` is clean with production-like environment variables, and
every page carries the browser security headers (Content-Security-Policy, nosniff, Referrer-Policy)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def _rsa_pair(directory: Path, name: str) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / f"{name}_private.pem", directory / f"{name}_public.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    app_private, _ = _rsa_pair(tmp_path, "app")
    _, alipay_public = _rsa_pair(tmp_path, "alipay")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHUNONG_", "VIDEO_", "ALIPAY_"))
           and k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")}
    env.update({
        "ZHUNONG_VAR": str(tmp_path), "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "shop.example.cn", "CSRF_TRUSTED_ORIGINS": "https://shop.example.cn",
        "ZHUNONG_HTTPS": "1", "ZHUNONG_HSTS_PRELOAD": "1", "ZHUNONG_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "ZHUNONG_TRUSTED_PROXY_COUNT": "1",
        # A production payment provider (payments' own checks), with throwaway keys.
        "ZHUNONG_PAYMENT_PROVIDER": "alipay", "ALIPAY_APP_ID": "2021000000000000",
        "ALIPAY_APP_PRIVATE_KEY_FILE": str(app_private), "ALIPAY_PUBLIC_KEY_FILE": str(alipay_public),
        # Hosts' ID numbers (live.E002 without them).
        "ZHUNONG_ID_KEYS": Fernet.generate_key().decode(), "ZHUNONG_ID_HASH_KEY": secrets.token_urlsafe(32),
    })
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    env = _production_env(tmp_path)
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    shown = _manage(env, "shell", "-c", "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER,"
                    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)")
    assert shown.stdout.strip().splitlines()[-1].split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "True", "True", "31536000", "True"], \
        shown.stdout + shown.stderr


@pytest.mark.slow
def test_check_deploy_flags_plain_http(tmp_path):
    """Without ZHUNONG_HTTPS (the embedded demo), the deploy check names what is missing: the test above is not vacuous."""
    result = _manage(_production_env(tmp_path, ZHUNONG_HTTPS="0"), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check_id in result.stderr + result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline scripts, no eval
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_player_may_fetch_hls_from_the_media_server():
    policy = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for origin in settings.CSP_MEDIA_ORIGINS:
        assert origin in policy["connect-src"] and origin in policy["media-src"]
    assert "blob:" in policy["media-src"] and "blob:" in policy["worker-src"]


def test_no_template_has_an_inline_script_or_event_handler():
    """script-src 'self' blocks inline <script> bodies and on* attributes: pages use static files instead."""
    import re

    offenders = []
    for template in (ROOT / "zhunong").rglob("templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text):
            if "src=" not in match.group(0) and 'type="application/json"' not in match.group(0):
                offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0).strip()}")
    assert not offenders, offenders


@pytest.mark.django_db
def test_a_finished_request_can_be_inspected(client):
    """Nothing left on a finished request raises when looked at (live's leak tests walk gc.get_objects())."""
    response = client.get("/")
    assert "Content-Security-Policy" in response
    request = response.wsgi_request
    for value in list(vars(request).values()):
        isinstance(value, str)  # django-csp's own guard would raise CSPNonceError here
