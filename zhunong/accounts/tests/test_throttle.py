"""Sign-in throttling (django-axes, per username and address) and registration throttling (per address)."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.hashers import make_password

from zhunong.accounts import roles
from zhunong.accounts.models import RegistrationAttempt, User
from zhunong.testing import PASSWORD, make_admin, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


def token(client, username: str, password: str, ip: str = "203.0.113.7"):  # noqa: ANN001, ANN201
    return client.post(f"{API}/auth/token", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json", REMOTE_ADDR=ip)


def fail(client, username: str, times: int, ip: str = "203.0.113.7") -> None:  # noqa: ANN001
    for _ in range(times):
        assert token(client, username, "wrong-password", ip).status_code == 401


def test_api_sign_in_is_locked_per_username_and_address_with_retry_after(client, settings, caplog):
    user = make_user()
    other = make_user()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)
    with caplog.at_level(logging.WARNING, logger="zhunong.accounts.throttle"):
        resp = token(client, user.username, "wrong-password")
    assert resp.status_code == 429
    assert resp.json()["code"] == "too_many_attempts"
    assert resp.json()["message"]
    assert resp["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "locked out" in caplog.text
    # Even the right password is refused while locked out, and no token is issued.
    resp = token(client, user.username, PASSWORD)
    assert resp.status_code == 429 and resp.json()["code"] == "too_many_attempts"
    assert not user.api_tokens.exists()
    # Another address, or another account from the same address, is not affected.
    assert token(client, user.username, PASSWORD, ip="198.51.100.9").status_code == 200
    assert token(client, other.username, PASSWORD).status_code == 200


def test_a_success_clears_the_failures(client, settings):
    user = make_user()
    for _ in range(3):
        fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)
        assert token(client, user.username, PASSWORD).status_code == 200


def test_internal_sign_in_without_a_request_is_not_throttled(settings):
    from zhunong.accounts.services import issue_token

    user = make_user()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        with pytest.raises(Exception, match="Wrong username or password"):
            issue_token(username=user.username, password="wrong-password")
    assert issue_token(username=user.username, password=PASSWORD)[0] == user


def test_login_page_shows_a_clear_message_when_locked_out(client, settings):
    user = make_user(roles.BUYER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        resp = client.post("/accounts/login/", {"username": user.username, "password": "nope-nope"})
        assert resp.status_code == 200
    resp = client.post("/accounts/login/", {"username": user.username, "password": "nope-nope"})
    assert resp.status_code == 429
    assert resp["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    page = resp.content.decode()
    assert "尝试次数过多" in page and "15 分钟后再试" in page
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_is_throttled_too(client, settings):
    admin = make_admin()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/admin/login/", {"username": admin.username, "password": "x"}).status_code == 200
    resp = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert resp.status_code in (200, 302)  # the 5th is a success and clears the count
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": admin.username, "password": "x"})
    resp = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.content.decode()


def register(client, n: int, ip: str = "203.0.113.7"):  # noqa: ANN001, ANN201
    return client.post(f"{API}/auth/register", content_type="application/json", REMOTE_ADDR=ip,
                       data=json.dumps({"username": f"buyer_r{n}", "password": "lanmei-caizhai-2026"}))


def test_api_registration_is_throttled_per_address(client, settings):
    settings.REGISTER_LIMIT = 2
    assert register(client, 1).status_code == 201
    assert register(client, 1).status_code == 409  # a refused attempt counts too
    before = User.objects.count()
    resp = register(client, 2)
    assert resp.status_code == 429
    assert resp.json()["code"] == "too_many_attempts"
    assert 3500 < int(resp["Retry-After"]) <= 3600
    assert User.objects.count() == before
    assert register(client, 3, ip="198.51.100.9").status_code == 201
    assert RegistrationAttempt.objects.filter(address="203.0.113.7").count() == 2  # a refusal is not counted


def test_registration_page_is_throttled_with_a_message(client, settings):
    settings.REGISTER_LIMIT = 1
    data = {"username": "page_buyer", "password1": "lanmei-caizhai-2026", "password2": "lanmei-caizhai-2026"}
    assert client.post("/accounts/register/", data).status_code == 302
    client.logout()
    resp = client.post("/accounts/register/", {**data, "username": "page_buyer2"})
    assert resp.status_code == 429
    assert "注册账号的次数太多" in resp.content.decode()
    assert not User.objects.filter(username="page_buyer2").exists()


def test_client_address_behind_a_trusted_proxy(rf, settings):
    from zhunong.accounts.throttle import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.20"  # the left-most entry is whatever the client sent
    forged = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, not-an-address")
    assert client_ip(forged) == "10.0.0.2"


def test_a_request_without_an_address_is_not_an_error(client):
    """force_login and other code-built requests have no REMOTE_ADDR: axes gets None, never a bad IP value
    (PostgreSQL's inet column refuses "unknown")."""
    from zhunong.accounts.throttle import client_ip_for_axes
    from zhunong.testing import make_admin

    client.force_login(make_admin())
    assert client.get("/admin/").status_code == 200

    class Bare:
        META: dict = {}

    assert client_ip_for_axes(Bare()) is None


def test_a_malformed_forwarded_address_is_not_a_server_error(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    resp = client.post(f"{API}/auth/token", data=json.dumps({"username": "nobody", "password": "wrong-password"}),
                       content_type="application/json", HTTP_X_FORWARDED_FOR="<script>")
    assert resp.status_code == 401


def test_production_hashes_passwords_with_argon2(settings):
    import zhunong.settings as production  # the module, not the test run's MD5 override (conftest.py)

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert make_password("lanmei", hasher="argon2").startswith("argon2$argon2id$")


def test_a_failed_sign_in_with_a_malformed_form_content_type_is_not_a_server_error(client):
    """django-axes reads the form fields of a failure; a multipart body without a boundary must not make it a 500."""
    resp = client.generic("POST", f"{API}/auth/token", b'{"username": "nobody", "password": "wrong-password"}',
                          content_type="multipart/form-data")
    assert resp.status_code == 401
    assert resp.json()["code"] == "bad_credentials"


def test_an_over_long_username_is_a_401_not_a_server_error(client):
    """axes' username column has 255 characters (enforced by PostgreSQL); the login page takes up to 150."""
    resp = client.post("/accounts/login/", {"username": "x" * 300, "password": "nope-nope"})
    assert resp.status_code == 200
    resp = token(client, "y" * 150, "wrong-password")
    assert resp.status_code == 401
