"""A signed-out visitor pressing 立即购买: the login must lead back to the purchase, never to the POST-only
buy URL (a GET of it after login used to answer 405)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from zhunong.orders.models import Order
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def _next_of(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path == "/accounts/login/", location
    return query["next"][0]


def test_login_next_is_the_page_the_buy_box_was_on(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    client = Client()
    response = client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "idempotency_key": "k-1"},
                           HTTP_REFERER="http://testserver/replays/7/?t=30")
    assert response.status_code == 302
    assert _next_of(response["Location"]) == "/replays/7/?t=30"
    assert Order.objects.count() == 0


def test_without_referer_next_is_the_product_page(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    response = Client().post("/orders/buy/", {"product_id": product.pk, "quantity": 1})
    assert _next_of(response["Location"]) == f"/p/{product.pk}/"


def test_foreign_referer_is_not_followed(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    response = Client().post("/orders/buy/", {"product_id": product.pk, "quantity": 1},
                             HTTP_REFERER="https://evil.example/p/1/")
    assert _next_of(response["Location"]) == f"/p/{product.pk}/"


def test_get_after_login_returns_to_the_product_not_405(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    client = Client()
    client.force_login(make_user())
    response = client.get(f"/orders/buy/?product_id={product.pk}")
    assert response.status_code == 302 and response["Location"] == f"/p/{product.pk}/"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/orders/buy/").status_code == 302  # an old bookmark: home, not 405


def test_signed_out_post_without_csrf_token_leads_to_login_and_signed_in_post_is_still_checked(world):  # noqa: ANN001
    # The product page is cached for everyone, so a browser without JavaScript posts the buy box without a token.
    product = world.listed_product(price="39.90")
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "idempotency_key": "k-9"})
    assert response.status_code == 302 and _next_of(response["Location"]) == f"/p/{product.pk}/"
    buyer = Client(enforce_csrf_checks=True)
    buyer.force_login(make_user())
    # Signed in, without a token: the confirmation step (a fresh token), never an order by itself.
    step = buyer.post("/orders/buy/", {"product_id": product.pk, "quantity": 2, "idempotency_key": "k-10"})
    assert step.status_code == 200 and 'data-role="confirm-step"' in step.content.decode()
    assert Order.objects.count() == 0


def _confirm(client: Client, step) -> dict:  # noqa: ANN001
    """The confirmation form's fields, as the browser would send them back."""
    html = step.content.decode()
    form = html[html.index('data-role="confirm-step"'):html.index("</form>", html.index('data-role="confirm-step"'))]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_signed_in_post_from_the_cached_page_without_javascript_is_confirmed_then_done(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    buyer = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    step = client.post("/orders/buy/", {"product_id": product.pk, "quantity": 2, "idempotency_key": "k-11"})
    fields = _confirm(client, step)
    assert fields["csrfmiddlewaretoken"] and fields["quantity"] == "2" and fields["idempotency_key"] == "k-11"
    done = client.post("/orders/buy/", fields)
    order = Order.objects.get(buyer=buyer)
    assert done.status_code == 302 and done["Location"] == f"/orders/{order.pk}/" and order.lines.get().quantity == 2
    # 加入购物车 the same way (also signed out: the session cart changes only when confirmed).
    for who in (client, Client(enforce_csrf_checks=True)):
        step = who.post("/cart/add/", {"product_id": product.pk, "quantity": 3})
        assert step.status_code == 200 and "确认加入购物车" in step.content.decode()
        assert who.get("/cart/").content.decode().count('data-product-id') == 0
        added = who.post("/cart/add/", _confirm(who, step))
        assert added.status_code == 302
        assert f'data-product-id="{product.pk}"' in who.get("/cart/").content.decode()
    # A forged post with a wrong token is no better than none: the step again, nothing added.
    assert "confirm-step" in client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1,
                                                          "idempotency_key": "k-12",
                                                          "csrfmiddlewaretoken": "x" * 64}).content.decode()
    assert Order.objects.filter(buyer=buyer).count() == 1
