"""Each role lands where it works after sign-in, the header shows its places, and the workbench lists every
staff page of the role (none is reachable only by typing its URL)."""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.live.models import StreamStatus
from zhunong.testing import PASSWORD, build_world, make_admin, make_user, unique


@pytest.fixture
def world(db):  # noqa: ANN001, ANN201
    return build_world()


def sign_in(client, user, next_url: str | None = None):  # noqa: ANN001, ANN201
    url = "/accounts/login/" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, {"username": user.username, "password": PASSWORD})


def header_places(client) -> list[str]:  # noqa: ANN001
    """The places in the header's personal part (as /me/nav/ serves it to pages the front caches)."""
    return re.findall(r'data-place="([^"]+)"', client.get("/me/nav/").content.decode())


@pytest.mark.django_db
def test_buyer_lands_on_the_home_page_and_sees_live_and_replays(client) -> None:  # noqa: ANN001
    buyer = make_user(roles.BUYER)
    response = sign_in(client, buyer)
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).request["PATH_INFO"] == "/"
    html = client.get("/").content.decode()
    assert 'href="/live/"' in html and 'href="/replays/"' in html
    assert header_places(client) == []
    assert client.get("/workbench/").status_code == 403


@pytest.mark.django_db
def test_a_safe_next_is_respected_and_an_unsafe_one_ignored(client, world) -> None:  # noqa: ANN001
    assert sign_in(client, world.operator, "/fulfilment/complaints/")["Location"] == "/fulfilment/complaints/"
    client.logout()
    response = sign_in(client, world.operator, "https://evil.example/")
    assert client.get(response["Location"])["Location"] == "/workbench/"


@pytest.mark.django_db
def test_next_home_page_is_no_page_to_return_to(client, world) -> None:  # noqa: ANN001
    """The header's 登录 link on the home page carries next=/; the operator still lands on its workbench."""
    response = sign_in(client, world.operator, "/")
    assert client.get(response["Location"])["Location"] == "/workbench/"


@pytest.mark.django_db
def test_host_lands_on_the_console_of_the_live_stream_else_the_next_one(client, world) -> None:  # noqa: ANN001
    later = world.live_room(0, status=StreamStatus.SCHEDULED, starts_in=dt.timedelta(days=2))
    host = later.host_user
    sign_in(client, host)
    assert client.get("/start/")["Location"] == f"/live/{later.stream.pk}/console/"

    assert "console" in header_places(client)
    client.logout()
    # A host without any stream lands on its stream list.
    lonely = world.live_room(0, status=StreamStatus.ENDED)
    sign_in(client, lonely.host_user)
    assert client.get("/start/")["Location"] == "/live/manage/"


@pytest.mark.django_db
def test_host_on_air_lands_on_that_console(client, world) -> None:  # noqa: ANN001
    room = world.live_room(1)
    sign_in(client, room.host_user)
    assert client.get("/start/")["Location"] == f"/live/{room.stream.pk}/console/"


@pytest.mark.django_db
def test_producer_manager_lands_on_the_packing_list_and_sees_own_sales(client, world) -> None:  # noqa: ANN001
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    response = sign_in(client, manager)
    assert client.get(response["Location"])["Location"] == "/fulfilment/"
    html = client.get("/fulfilment/").content.decode()
    assert header_places(client) == ["packing", f"sales_{world.producer.pk}"]
    assert f'href="/orders/sales/producers/{world.producer.pk}/"' in html
    assert client.get(f"/orders/sales/producers/{world.producer.pk}/").status_code == 200


@pytest.mark.django_db
def test_county_operator_home_shows_the_county_and_links_every_staff_page(client, world) -> None:  # noqa: ANN001
    world.live_room(1)
    response = sign_in(client, world.operator)
    assert client.get(response["Location"])["Location"] == "/workbench/"
    page = client.get("/workbench/")
    assert page.status_code == 200
    html = page.content.decode()
    figures = page.context["figures"]
    assert figures.live_streams == 1 and figures.producers == 1 and figures.listed_products == 1
    assert "workbench" in header_places(client) and "streams" in header_places(client)
    for url in ["/live/manage/", "/live/manage/schedule/", "/live/manage/hosts/", "/live/manage/training/",
                "/video/ingests/", "/fulfilment/", "/fulfilment/complaints/", "/fulfilment/county/", "/insights/"]:
        assert f'href="{url}"' in html, url
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_county_sales_this_week_and_last_week_are_net_paid_sales(world) -> None:  # noqa: ANN001
    from zhunong.orders import services as orders
    from zhunong.orders.models import Order
    from zhunong.workbench import selectors

    product = world.listed_product(price="25.00", stock=50)

    def paid(quantity: int, days_ago: float) -> Order:
        order = orders.create_order(buyer=make_user(roles.BUYER), lines=[{"product_id": product.pk,
                                    "quantity": quantity}], idempotency_key=unique("k"))
        orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
        Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=days_ago))
        return order

    paid(3, 8)
    paid(1, 1)
    orders.create_order(buyer=make_user(roles.BUYER), lines=[{"product_id": product.pk, "quantity": 2}],
                        idempotency_key=unique("k"))  # never paid: no sale
    figures = selectors.county_figures(world.operator)
    assert (figures.sales_this_week, figures.units_this_week) == (Decimal("25.00"), 1)
    assert (figures.sales_last_week, figures.units_last_week) == (Decimal("75.00"), 3)
    # Another county's operator sees none of it.
    other = build_world()
    assert selectors.county_figures(other.operator).sales_last_week == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["regulator", "discipline_inspector"])
def test_office_roles_land_on_the_office(client, world, who) -> None:  # noqa: ANN001
    user = getattr(world, who)
    response = sign_in(client, user)
    assert client.get(response["Location"])["Location"] == "/office/"
    assert client.get("/office/").status_code == 200
    places = header_places(client)
    assert "flags" in places
    workbench = client.get("/workbench/").content.decode()
    assert 'href="/office/streams/"' in workbench
    if who == "regulator":
        assert "inspections" in places and 'href="/fulfilment/complaints/"' in workbench
    else:
        assert "approvals" in places and 'href="/backoffice/audit/"' in workbench
        assert client.get("/backoffice/audit/").status_code == 200


@pytest.mark.django_db
def test_platform_admin_lands_on_the_admin(client) -> None:  # noqa: ANN001
    admin = make_admin()
    response = sign_in(client, admin)
    assert client.get(response["Location"])["Location"] == "/admin/"
    assert "admin" in header_places(client)


@pytest.mark.django_db
def test_workbench_and_header_places_in_english(client, world) -> None:  # noqa: ANN001
    client.force_login(world.operator)
    client.cookies["django_language"] = "en"
    html = client.get("/workbench/").content.decode()
    assert "<h1>Workbench</h1>" in html and "Sales, last 7 days" in html and "Open complaints" in html
    assert "工作台" not in html.split("<main", 1)[1]
    nav = client.get("/me/nav/").content.decode()
    assert ">Workbench<" in nav and "直播管理" not in nav
