"""The data centre's pages: filled from real orders, region-scoped, CSP-clean, with table fallbacks."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.insights import dashboards
from zhunong.live.models import StreamMinute, ViewerSession
from zhunong.orders import services as orders
from zhunong.producers import services as producers
from zhunong.producers.models import Producer
from zhunong.testing import build_world, make_admin, make_user, start_sale, unique

pytestmark = pytest.mark.django_db


class Scene:
    def __init__(self, world) -> None:  # noqa: ANN001
        self.world = world
        self.room = world.live_room(2, title="蓝莓专场")
        self.stream = self.room.stream
        self.product, self.other_product = self.room.products
        from zhunong.live import streams as live

        live.pin_product(actor=self.room.host_user, stream=self.stream, product=self.product)
        live.pin_product(actor=self.room.host_user, stream=self.stream, product=self.other_product)
        self.sale = start_sale(self.room, self.other_product, quantity=5, price="29.90")
        now = timezone.now().replace(second=0, microsecond=0)
        StreamMinute.objects.create(stream=self.stream, minute=now - dt.timedelta(minutes=1), concurrent_viewers=30,
                                    chat_messages=12, likes=40, product_clicks=9, new_viewers=30)
        StreamMinute.objects.create(stream=self.stream, minute=now, concurrent_viewers=42, chat_messages=20,
                                    likes=55, product_clicks=11, new_viewers=12)
        for i in range(3):
            ViewerSession.objects.create(stream=self.stream, viewer_key=f"v{i}", first_seen=now, last_seen=now)
        self.buyer = make_user(roles.BUYER)
        self.order = self.paid([(self.product, 2)], stream=self.stream)
        self.paid([(self.other_product, 1)], stream=self.stream)
        orders.refund(order=self.order, actor=world.operator, reason="坏果",
                      amounts={self.order.lines.get().pk: Decimal("5.00")})

    def paid(self, lines, *, stream=None):  # noqa: ANN001, ANN201
        order = orders.create_order(buyer=self.buyer, stream=stream, idempotency_key=unique("k"),
                                    lines=[{"product_id": p.pk, "quantity": q} for p, q in lines])
        orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
        order.refresh_from_db()
        return order


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    return Scene(world)


def client_for(user) -> Client:  # noqa: ANN001
    c = Client()
    c.force_login(user)
    return c


def pages(scene: Scene) -> list[str]:
    w = scene.world
    here = f"?region={w.county.code}"
    return [reverse("insights:home") + here, reverse("insights:income") + here,
            reverse("insights:stream", args=[scene.stream.pk]), reverse("insights:host", args=[scene.room.host.pk]),
            reverse("insights:product", args=[scene.product.pk]), reverse("insights:producer", args=[w.producer.pk]),
            reverse("insights:region", args=[w.county.code]), reverse("insights:region", args=[w.village.code])]


def test_every_page_renders_for_the_county_operator_with_charts_and_no_inline_script(scene):
    c = client_for(scene.world.operator)
    for url in pages(scene):
        response = c.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "vendor/echarts/echarts.min.js" in html and "insights/charts.js" in html
        for tag in re.findall(r"<script[^>]*>", html):
            # Only files, or JSON data (json_script): nothing the CSP would have to trust inline.
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        for chart_id in re.findall(r'data-chart="([^"]+)"', html):
            assert f'id="{chart_id}"' in html
        assert 'class="visually-hidden"' in html  # the charts' table for screen readers


def test_stream_board_figures(scene):
    board = dashboards.stream_board(scene.stream)
    assert board["totals"]["gross"] == Decimal("2") * scene.product.price + Decimal("29.90")
    assert board["totals"]["refunded"] == Decimal("5.00")
    assert [f["value"] for f in board["funnel"]] == [3, 20, 1]
    assert board["peak_viewers"] == 42
    assert [p["product"] for p in board["pins"]] == [scene.product.name, scene.other_product.name]
    assert board["flash_sales"][0]["sold"] == 1
    assert sum(r["gmv"] for r in board["series"]) == board["totals"]["gross"]
    assert board["top_products"][0]["id"] == scene.product.pk
    html = client_for(scene.world.operator).get(reverse("insights:stream", args=[scene.stream.pk])).content.decode()
    data = json.loads(re.search(r'id="chart-stream-gmv" type="application/json">(.*?)</script>', html).group(1))
    assert data["marks"] and data["areas"]  # the pin and the flash sale are marked on the GMV curve


def test_county_home_compares_weeks_and_lists_unsold_products(scene):
    unsold = scene.world.listed_product(name="没人买的蓝莓酱")
    board = dashboards.county_home(scene.world.operator, region=scene.world.county)
    assert board["this"]["units"] == 3 and board["last"]["units"] == 0
    assert unsold.pk in [p["id"] for p in board["unsold"]]
    assert scene.product.pk not in [p["id"] for p in board["unsold"]]
    assert board["compare"][0]["change"] == "新增"
    html = client_for(scene.world.operator).get(reverse("insights:home")).content.decode()
    assert 'data-slot="warnings"' in html and "没人买的蓝莓酱" in html


def test_scoping_and_roles(scene):
    other = build_world()
    outsider = client_for(other.operator)
    for url in pages(scene):
        assert outsider.get(url).status_code == 403, url
    buyer = client_for(make_user(roles.BUYER))
    assert buyer.get(reverse("insights:home")).status_code == 403
    assert client_for(scene.world.regulator).get(reverse("insights:income")).status_code == 200
    admin = client_for(make_admin())
    assert admin.get(reverse("insights:home") + f"?region={scene.world.county.code}").status_code == 200
    # The host sees their own stream's board (stream.audit), not the county's.
    host = client_for(scene.room.host_user)
    assert host.get(reverse("insights:stream", args=[scene.stream.pk])).status_code == 200
    assert host.get(reverse("insights:home")).status_code == 403
    assert Client().get(reverse("insights:home")).status_code == 302  # to the sign-in page


def test_producer_manager_sees_their_co_op_board(scene):
    manager = make_user(roles.PRODUCER_MANAGER)
    coop = producers.create_producer(actor=scene.world.operator, name="合作社", village=scene.world.village,
                                     kind=Producer.Kind.COOPERATIVE, managers=[manager])
    c = client_for(manager)
    assert c.get(reverse("insights:producer", args=[coop.pk])).status_code == 200
    assert c.get(reverse("insights:producer", args=[scene.world.producer.pk])).status_code == 403


def test_bad_input_is_refused_clearly(scene):
    c = client_for(scene.world.operator)
    url = reverse("insights:product", args=[scene.product.pk])
    for query in ("?start=2026-13-01", "?start=2026-02-01&end=2026-01-01", "?start=1990-01-01&end=2026-01-01"):
        response = c.get(url + query)
        assert response.status_code == 422 and b"invalid_date_range" in response.content
    assert c.get(url + "?export=pdf&table=daily").status_code == 422
    assert c.get(url + "?export=csv&table=nope").status_code == 404
    assert c.get(reverse("insights:product", args=[10**17])).status_code == 404
    assert c.get(reverse("insights:region", args=["nope"])).status_code == 404
    assert c.get(reverse("insights:home") + "?region=nope").status_code == 404


def test_header_links_to_the_data_centre_for_county_staff_only(scene):
    home = reverse("insights:home")
    # The header's personal part (front cache: /me/nav/, loaded by every page).
    assert f'href="{home}"' in client_for(scene.world.operator).get("/me/nav/?next=/").content.decode()
    assert f'href="{home}"' not in client_for(make_user(roles.BUYER)).get("/me/nav/?next=/").content.decode()


def test_date_range_filters_the_boards(scene):
    c = client_for(scene.world.operator)
    today = timezone.localdate()
    url = reverse("insights:region", args=[scene.world.county.code])
    past = c.get(url + f"?start={today - dt.timedelta(days=40)}&end={today - dt.timedelta(days=10)}")
    now = c.get(url + f"?start={today}&end={today}")
    assert past.context["board"]["totals"]["units"] == 0
    assert now.context["board"]["totals"]["units"] == 3
