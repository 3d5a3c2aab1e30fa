"""Sign-in, sign-out and buyer self-registration pages, including bad input."""

from __future__ import annotations

import re

import pytest

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "lanmei-caizhai-2026"


def text(response) -> str:  # noqa: ANN001
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def register(client, **overrides):  # noqa: ANN001, ANN003, ANN201
    data = {"username": "lanmei_fan", "display_name": "蓝莓粉", "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD}
    data.update(overrides)
    return client.post("/accounts/register/", data)


def test_login_page_renders_in_chinese(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = text(response)
    assert "登录" in page and "用户名" in page and "密码" in page and "注册买家账号" in page


def test_login_with_good_credentials_signs_in_and_redirects_home(client):
    user = make_user(roles.BUYER, username="buyer_wang")
    response = client.post("/accounts/login/", {"username": "buyer_wang", "password": PASSWORD})
    # Every sign-in lands on /start/ (the role's place, zhunong.workbench); a buyer's place is the home page.
    assert response.status_code == 302 and response["Location"] == "/start/"
    assert client.get("/start/")["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == user.pk
    # The home page is the same for everyone (the front caches it); the header's personal part is /me/nav/.
    nav = text(client.get("/me/nav/"))
    assert "buyer_wang" in nav and "退出" in nav


def test_login_follows_a_safe_next_but_not_an_external_one(client):
    make_user(roles.BUYER, username="buyer_li")
    ok = client.post("/accounts/login/", {"username": "buyer_li", "password": PASSWORD, "next": "/search/?q=蓝莓"})
    assert ok["Location"] == "/search/?q=%E8%93%9D%E8%8E%93"  # 蓝莓
    client.logout()
    evil = client.post("/accounts/login/", {"username": "buyer_li", "password": PASSWORD,
                                            "next": "https://evil.example/"})
    assert evil["Location"] == "/start/"


@pytest.mark.parametrize(("username", "password", "message"), [
    ("buyer_zhao", "wrong-password", "用户名或密码不对"),
    ("nobody_here", PASSWORD, "用户名或密码不对"),
    ("", "", "请填写这一项"),
    ("x" * 300, PASSWORD, "用户名或密码不对"),
    ("buyer\x00zhao", PASSWORD, "不能包含控制字符"),
    ("buyer\x1bzhao", PASSWORD, "用户名不能包含控制字符"),
])
def test_bad_login_shows_a_clear_message_and_signs_nobody_in(client, username, password, message):
    make_user(roles.BUYER, username="buyer_zhao")
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert message in text(response)


def test_logout_needs_post(client):
    make_user(roles.BUYER, username="buyer_sun")
    client.post("/accounts/login/", {"username": "buyer_sun", "password": PASSWORD})
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_register_creates_a_buyer_signs_in_and_welcomes(client):
    response = register(client)
    assert response.status_code == 302 and response["Location"] == "/start/"
    user = User.objects.get(username="lanmei_fan")
    assert user.has_role(roles.BUYER) and not user.is_staff and user.display_name == "蓝莓粉"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "注册成功，欢迎你，蓝莓粉！" in text(client.get("/me/nav/"))  # messages come with the header's personal part


def test_register_with_a_chinese_username(client):
    assert register(client, username="山里村王姐").status_code == 302
    assert User.objects.filter(username="山里村王姐").exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"password2": "something-else-2026"}, "两次输入的密码不一致"),
    ({"password1": "12345678", "password2": "12345678"}, "密码太弱"),
    ({"password1": "short", "password2": "short"}, "密码太弱"),
    ({"username": "ab"}, "用户名只能用"),
    ({"username": "has space"}, "用户名只能用"),
    ({"username": "x" * 151}, "最多 150 个字符（现在是 151 个）"),
    ({"username": "bad\x07name"}, "不能包含控制字符"),
    ({"display_name": "昵" * 51}, "最多 50 个字符（现在是 51 个）"),
    ({"display_name": "蓝莓\u202e粉"}, "不能包含控制字符"),
    ({"username": ""}, "请填写这一项"),
])
def test_register_rejects_bad_input_clearly_and_creates_nothing(client, overrides, message):
    before = User.objects.count()
    response = register(client, **overrides)
    assert response.status_code == 400
    assert message in text(response)
    assert User.objects.count() == before
    assert "_auth_user_id" not in client.session


def test_register_rejects_a_taken_username_case_insensitively(client):
    make_user(roles.BUYER, username="Lanmei_Fan")
    response = register(client)
    assert response.status_code == 400
    assert "这个用户名已被注册" in text(response)
    assert User.objects.filter(username__iexact="lanmei_fan").count() == 1


def test_signed_in_user_visiting_register_is_sent_home(client):
    make_user(roles.BUYER, username="buyer_zhou")
    client.post("/accounts/login/", {"username": "buyer_zhou", "password": PASSWORD})
    assert client.get("/accounts/register/")["Location"] == "/start/"


def test_account_pages_in_english(client):
    login = text(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Sign in" in login and "Username" in login and "Password" in login
    response = client.post("/accounts/register/", {"username": "ab", "password1": "x", "password2": "y"},
                           HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)
    assert "Create a buyer account" in page and "do not match" in page
