"""The home page's product grid pages with 更多: a plain link without JavaScript (/products/?page=N), an
htmx request that appends the next page in place, and a home page the same for every viewer (cached)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zhunong.accounts import roles
from zhunong.catalog import views
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(world, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr(views, "GRID_PAGE", 2)
    # Made one after another, so the newest (the last made) comes first in the grid.
    return [world.listed_product(name=f"好物{i}") for i in range(5)]


def _names(html: str) -> list[str]:
    return re.findall(r'<h3 class="product-name">([^<]+)</h3>', html)


def test_home_shows_the_first_page_and_a_more_link(client, products):  # noqa: ANN001
    html = client.get("/").content.decode()
    assert _names(html) == ["好物4", "好物3"]
    more = re.search(r'<p class="section" id="more-products">(.*?)</p>', html, re.S).group(1)
    assert 'href="/products/?page=2"' in more and 'hx-get="/products/?page=2"' in more
    assert 'hx-target="#product-grid"' in more and 'hx-select-oob="#more-products"' in more and "更多" in more


def test_pages_follow_without_repeats_and_end(client, products):  # noqa: ANN001
    seen = _names(client.get("/").content.decode())
    page = 2
    for _ in range(10):  # a bound: pages that link in a circle fail here instead of hanging the suite
        if not page:
            break
        html = client.get(f"/products/?page={page}").content.decode()
        seen += _names(html)
        assert 'id="product-grid"' in html and 'id="more-products"' in html  # what htmx takes out
        more = re.search(r'<p class="section" id="more-products">(.*?)</p>', html, re.S).group(1)
        found = re.search(r'href="/products/\?page=(\d+)"', more)  # 更多, not the page's link back
        page = int(found.group(1)) if found else 0
    assert not page, "the pages never ended"
    assert seen == [f"好物{i}" for i in range(4, -1, -1)]
    assert "已经到底了" in html
    assert client.get("/products/?page=4").status_code == 404  # past the end: never appended twice
    assert client.get("/products/?page=x").status_code == 404


def test_htmx_gets_the_same_page(client, products):  # noqa: ANN001
    plain = client.get("/products/?page=2")
    htmx = client.get("/products/?page=2", HTTP_HX_REQUEST="true")
    assert _names(plain.content.decode()) == _names(htmx.content.decode()) == ["好物2", "好物1"]


def test_no_more_link_when_everything_fits(client, world):  # noqa: ANN001
    world.listed_product(name="唯一好物")
    html = client.get("/").content.decode()
    assert "唯一好物" in html and "/products/?page=" not in html and "已经到底了" in html


def test_home_grid_is_the_same_for_every_viewer(products):  # noqa: ANN001
    anonymous = Client().get("/").content.decode()
    signed_in = Client()
    signed_in.force_login(make_user(roles.BUYER))
    mine = signed_in.get("/").content.decode()
    grid = re.compile(r'<section class="section" aria-labelledby="featured-h">.*?</section>', re.S)
    assert grid.search(anonymous).group(0) == grid.search(mine).group(0)
