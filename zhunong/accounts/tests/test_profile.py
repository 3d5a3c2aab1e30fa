"""The profile page: name (editable), masked phone, links to what else is the user's; in the header."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts import roles, services
from zhunong.accounts.models import User
from zhunong.core.errors import ValidationFailed
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_display_name_is_cleaned():
    user = make_user(roles.BUYER)
    services.update_display_name(user=user, display_name="  山里人  ")
    user.refresh_from_db()
    assert user.display_name == "山里人"
    with pytest.raises(ValidationFailed):
        services.update_display_name(user=user, display_name="x" * 51)
    with pytest.raises(ValidationFailed):
        services.update_display_name(user=user, display_name="a\nb")
    user.refresh_from_db()
    assert user.display_name == "山里人"


def test_profile_shows_masked_phone_and_links():
    user = make_user(roles.BUYER)
    User.objects.filter(pk=user.pk).update(phone="13812345678")
    html = _client(user).get("/accounts/profile/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    for href in ("/orders/addresses/", "/notifications/settings/", "/accounts/my-data/", "/following/",
                 "/orders/"):
        assert f'href="{href}"' in html


def test_profile_edits_the_name_and_says_why_not():
    user = make_user(roles.BUYER)
    client = _client(user)
    response = client.post("/accounts/profile/", {"display_name": "果园小王"})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    user.refresh_from_db()
    assert user.display_name == "果园小王"
    bad = client.post("/accounts/profile/", {"display_name": "x" * 60})
    assert bad.status_code == 422 and "50" in bad.content.decode()
    user.refresh_from_db()
    assert user.display_name == "果园小王"


def test_profile_needs_sign_in_and_is_in_the_header():
    assert Client().get("/accounts/profile/")["Location"].startswith("/accounts/login/")
    nav = _client(make_user(roles.BUYER)).get("/me/nav/?next=/").content.decode()
    assert 'href="/accounts/profile/"' in nav
