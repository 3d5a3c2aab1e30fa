"""Storefront pages cost a bounded number of queries: the count does not grow with the number of products,
streams, batches or reviews behind the page (N and 3N objects, same count). Built through the real services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhunong.live.models import Host, StreamStatus

pytestmark = pytest.mark.django_db

N = 2


def queries(client, url: str) -> int:  # noqa: ANN001
    client.get(url)  # warm: per-process caches (sessions, site settings) are not what is measured
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def counts(client, url: str, grow) -> tuple[int, int]:  # noqa: ANN001
    """Queries of `url` after grow(N), then after grow(2N) more (3N in all)."""
    grow(N)
    small = queries(client, url)
    grow(2 * N)
    large = queries(client, url)
    print(f"queries {url}: {small} with N={N}, {large} with 3N")  # docs/benchmarks.md quotes these
    return small, large


def add_streams(world, k: int) -> None:  # noqa: ANN001
    # Live rooms with a product each (the home page shows streams and featured products).
    for _ in range(k):
        product = world.listed_product(name="洋河蓝莓")
        world.live_room([product], status=StreamStatus.LIVE, kind=Host.Kind.COUNTY_HEAD, host_title="副县长",
                        pin=product)


def test_home(client, world):
    small, large = counts(client, "/", lambda k: add_streams(world, k))
    assert small == large


def test_product_page(client, world):
    product = world.listed_product(name="洋河蓝莓")

    def grow(k: int) -> None:
        for _ in range(k):
            batch = world.new_batch()
            world.inspect(batch)
            product.batches.add(batch)
            world.listed_product(name="洋河蓝莓")  # other products, and a room selling this one
        world.live_room([product], pin=product)

    small, large = counts(client, f"/p/{product.pk}/", grow)
    assert small == large


def test_room_page(client, world):
    room = world.live_room(1)
    stream_products = list(room.products)

    def grow(k: int) -> None:
        for i in range(k):
            product = world.listed_product(name=f"洋河蓝莓{i}")
            stream_products.append(product)
            room.stream.products.add(product)
        world.live_room(1)

    small, large = counts(client, f"/live/{room.stream.pk}/", grow)
    assert small == large


def test_search_page(client, world):
    small, large = counts(client, "/search/?q=蓝莓", lambda k: [world.listed_product(name="洋河蓝莓")
                                                            for _ in range(k)])
    assert small == large


def test_products_api(client, world):
    small, large = counts(client, "/api/v1/products", lambda k: [world.listed_product(name="洋河蓝莓")
                                                               for _ in range(k)])
    assert small == large


@pytest.mark.parametrize("page", ["/", "/p/{id}/", "/search/?q=蓝莓"])
def test_a_buyers_pages_do_not_grow_with_their_orders(client, world, page):
    from zhunong.orders.services import create_order, mark_paid
    from zhunong.testing import make_user, unique

    product = world.listed_product(name="洋河蓝莓", stock=1000)
    buyer = make_user()
    client.force_login(buyer)

    def grow(k: int) -> None:
        for _ in range(k):
            order = create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                 idempotency_key=unique("k"))
            mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))  # unpaid ones are capped

    small, large = counts(client, page.format(id=product.pk), grow)
    assert small == large
