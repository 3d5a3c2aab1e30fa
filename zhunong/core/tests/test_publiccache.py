"""Which responses the front may cache (core/publiccache.py): public-shaped pages the same for every viewer,
personal ones never; the per-viewer header fragment."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.test import Client

from zhunong.core import publiccache
from zhunong.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _marked(response) -> bool:  # noqa: ANN001
    return response.has_header("X-Accel-Expires")


def _body(response) -> str:  # noqa: ANN001
    return response.content.decode()


@pytest.fixture
def product(world):  # noqa: ANN001, ANN201
    return world.listed_product()


@pytest.fixture
def signed_in(world) -> Client:  # noqa: ANN001
    user = make_user(username="cachebuyer")
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_public_pages_are_marked_cacheable_for_anonymous_viewers(client, product, world) -> None:  # noqa: ANN001
    room = world.live_room([product])
    for url in ["/", f"/p/{product.pk}/", "/search/?q=蓝莓", "/replays/", f"/live/{room.stream.pk}/",
                "/api/v1/products", f"/api/v1/products/{product.pk}"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _marked(response), url
        assert re.fullmatch(r"@\d+", response["X-Accel-Expires"]), url
        assert "s-maxage=1" in response["Cache-Control"] and "public" in response["Cache-Control"], url
        assert not response.cookies, url
        assert "cookie" not in response.get("Vary", "").lower(), url


def test_a_signed_in_viewer_gets_the_same_bytes_as_an_anonymous_one(client, signed_in, product) -> None:  # noqa: ANN001
    anonymous = client.get(f"/p/{product.pk}/")
    personal = signed_in.get(f"/p/{product.pk}/")
    assert _marked(anonymous) and _marked(personal)
    assert not personal.cookies
    strip = re.compile(r'name="idempotency_key" value="[0-9a-f]+"')  # fresh per render, replaced by the page's script
    assert strip.sub("", _body(personal)) == strip.sub("", _body(anonymous))
    # No name, no token, no order link in the shared page: the header's personal part is a placeholder.
    assert "cachebuyer" not in _body(personal)
    assert "csrfmiddlewaretoken" not in _body(personal)
    assert 'hx-get="/me/nav/?next=' in _body(personal)


def test_personal_pages_are_never_marked(signed_in, client) -> None:  # noqa: ANN001
    for url in ["/orders/", "/accounts/login/", "/me/nav/"]:
        for who in (signed_in, client):
            response = who.get(url)
            assert not _marked(response), (url, response.status_code)


def test_the_room_is_shared_only_with_anonymous_viewers(client, signed_in, world) -> None:  # noqa: ANN001
    room = world.live_room(1)
    url = f"/live/{room.stream.pk}/"
    assert _marked(client.get(url))
    personal = signed_in.get(url)
    assert personal.status_code == 200
    assert not _marked(personal)
    assert "chat-form" in _body(personal)  # their own page: the chat box is there


def test_errors_posts_and_cookies_are_never_marked(client, product) -> None:  # noqa: ANN001
    assert not _marked(client.get("/p/999999/"))  # 404
    assert not _marked(client.get("/search/?q=" + "长" * 200))  # 400
    assert not _marked(client.post("/search/"))
    # A response that sets a cookie is personal whatever the page.
    from django.http import HttpResponse
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.zh_public = True
    response = HttpResponse("x")
    response.set_cookie("a", "b")
    assert not publiccache.cacheable(request, response)
    for vary in ("Cookie", "Accept-Language, Cookie", "*"):
        response = HttpResponse("x")
        response["Vary"] = vary
        assert not publiccache.cacheable(request, response)
    response = HttpResponse("x")
    response["Cache-Control"] = "private"
    assert not publiccache.cacheable(request, response)


def test_language_is_never_shared_across_viewers(client, product) -> None:  # noqa: ANN001
    url = f"/p/{product.pk}/"
    # The front keys by the language cookie it recognises and sends that key; a response in another language is
    # not cacheable, one in the keyed language is.
    english = client.get(url, headers={"Accept-Language": "en", "X-Zhunong-Language-Key": ""})
    assert english["Content-Language"] == "en" and _marked(english)
    assert "accept-language" in english["Vary"].lower()  # nginx keeps one copy per Accept-Language value
    client.cookies["django_language"] = "en"
    assert _marked(client.get(url, headers={"X-Zhunong-Language-Key": "en"}))
    assert not _marked(client.get(url, headers={"X-Zhunong-Language-Key": "zh-hans"}))
    assert not _marked(client.get(url, headers={"X-Zhunong-Language-Key": ""}))  # chosen by a cookie nginx ignored


@pytest.mark.parametrize(("now", "expected"), [(100.0, 99), (100.19, 99), (100.2, 100), (100.999, 100)])
def test_freshness_ends_within_a_second_of_rendering(now: float, expected: int) -> None:
    assert publiccache.expires_at(now) == expected
    # nginx serves it fresh until the clock reaches expected + 1: never a second after rendering.
    assert expected + 1 - now <= 1.0


def test_the_fragment_is_personal_and_carries_the_csrf_token(signed_in, client) -> None:  # noqa: ANN001
    response = signed_in.get("/me/nav/?next=/p/1/")
    assert response.status_code == 200
    body = _body(response)
    assert "cachebuyer" in body and "/orders/" in body
    token = re.search(r'data-role="csrf-token" data-token="([^"]+)"', body)
    assert token and len(token.group(1)) >= 32
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    anonymous = _body(client.get("/me/nav/?next=/p/1/%3Fstream%3D2"))
    assert "/accounts/login/?next=/p/1/%3Fstream%3D2" in anonymous
    # next must be a path on this site
    assert "evil.example" not in _body(client.get("/me/nav/?next=https://evil.example/"))
    assert client.post("/me/nav/").status_code == 405


def test_a_cached_page_posts_with_the_fragments_token(client, product) -> None:  # noqa: ANN001
    """What public-page.js does: the shared page has no token; the fragment's token makes its forms work."""
    enforcing = Client(enforce_csrf_checks=True)
    page = enforcing.get(f"/p/{product.pk}/")
    assert "csrfmiddlewaretoken" not in _body(page)
    refused = enforcing.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert refused.status_code == 403
    fragment = _body(enforcing.get("/me/nav/"))
    token = re.search(r'data-token="([^"]+)"', fragment).group(1)
    accepted = enforcing.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302


def test_messages_wait_for_the_fragment(signed_in) -> None:  # noqa: ANN001
    """A message queued before a public page (e.g. after signing out) is shown by the fragment, not baked into
    the shared page."""
    from django.contrib import messages as django_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = signed_in.session
    request._messages = FallbackStorage(request)
    django_messages.success(request, "已加入购物车")
    response = HttpResponse()
    request._messages.update(response)
    request.session.save()
    for morsel in response.cookies.values():
        signed_in.cookies[morsel.key] = morsel.value
    page = signed_in.get("/")
    assert "已加入购物车" not in _body(page) and 'id="page-messages"' in _body(page)
    fragment = _body(signed_in.get("/me/nav/?next=/"))
    assert 'hx-swap-oob="true"' in fragment and "已加入购物车" in fragment
    assert "已加入购物车" not in _body(signed_in.get("/me/nav/?next=/"))  # shown once
