"""API tokens: expiry, the owner's list and revocation, and revocation on a password change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from zhunong.accounts.models import ApiToken
from zhunong.testing import PASSWORD, api_auth, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


def test_a_token_expires_after_the_configured_days(client, settings):
    user = make_user()
    resp = client.post(f"{API}/auth/token", data=json.dumps({"username": user.username, "password": PASSWORD}),
                       content_type="application/json")
    raw = resp.json()["token"]
    token = ApiToken.objects.get(user=user)
    expected = timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert abs((token.expires_at - expected).total_seconds()) < 60
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(f"{API}/auth/me", **auth).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    resp = client.get(f"{API}/auth/me", **auth)
    assert resp.status_code == 401 and resp.json()["code"] == "not_authenticated"


def test_list_own_tokens_never_shows_the_secret(client):
    user = make_user()
    first = api_auth(user)
    second = api_auth(user)
    api_auth(make_user())  # someone else's
    resp = client.get(f"{API}/auth/tokens", **second)
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) == 2
    assert [r["current"] for r in rows] == [True, False]
    assert set(rows[0]) == {"id", "prefix", "created_at", "last_used_at", "expires_at", "current"}
    for header in (first, second):
        raw = header["HTTP_AUTHORIZATION"].split()[1]
        assert raw not in resp.content.decode()
        assert ApiToken.hash(raw) not in resp.content.decode()
    assert client.get(f"{API}/auth/tokens").status_code == 401


def test_delete_revokes_the_presented_token_only(client):
    user = make_user()
    kept = api_auth(user)
    gone = api_auth(user)
    resp = client.delete(f"{API}/auth/token", **gone)
    assert resp.status_code == 204
    assert client.get(f"{API}/auth/me", **gone).status_code == 401
    assert client.delete(f"{API}/auth/token", **gone).status_code == 401
    assert client.get(f"{API}/auth/me", **kept).status_code == 200
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_password_change_revokes_every_token(client):
    user = make_user()
    headers = [api_auth(user), api_auth(user)]
    other = api_auth(make_user())
    user.set_password("a-brand-new-password-1")
    user.save()
    for header in headers:
        assert client.get(f"{API}/auth/me", **header).status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()
    assert client.get(f"{API}/auth/me", **other).status_code == 200


def test_a_hash_upgrade_at_sign_in_keeps_the_tokens(client, settings):
    user = make_user()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher"]
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha1")
    user.save()
    header = api_auth(user)  # signs in: Django re-hashes the password with the first hasher
    user.refresh_from_db()
    assert user.password.startswith("md5$")
    assert client.get(f"{API}/auth/me", **header).status_code == 200


def test_admin_password_change_revokes_tokens(client):
    from zhunong.testing import make_admin

    user = make_user()
    header = api_auth(user)
    client.force_login(make_admin())
    resp = client.post(f"/admin/accounts/user/{user.pk}/password/",
                       {"password1": "another-new-password-9", "password2": "another-new-password-9"})
    assert resp.status_code == 302, resp.content[:500]
    assert client.get(f"{API}/auth/me", **header).status_code == 401


def test_admin_token_list_shows_the_expiry(client):
    from zhunong.testing import make_admin

    admin_user = make_admin()
    api_auth(admin_user)
    client.force_login(admin_user)
    resp = client.get("/admin/accounts/apitoken/")
    assert resp.status_code == 200
    assert "过期时间" in resp.content.decode()
