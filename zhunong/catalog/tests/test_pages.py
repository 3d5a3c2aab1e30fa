"""Storefront pages as a buyer sees them: home, product page, search."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhunong.catalog import services as catalog
from zhunong.catalog.models import ProductImage
from zhunong.live import streams as live_services
from zhunong.live.models import Host, Stream, StreamStatus
from zhunong.producers.services import create_plot, create_producer

pytestmark = pytest.mark.django_db


def text(response) -> str:  # noqa: ANN001
    """The page's visible text, tags stripped, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def make_stream(world, *, title: str, start_in: dt.timedelta, live: bool = False, end: bool = False,  # noqa: ANN001
                hours: int = 2) -> Stream:
    """A county head's stream with nothing on its shelf (the home page lists streams, not products)."""
    status = StreamStatus.ENDED if end else StreamStatus.LIVE if live else StreamStatus.SCHEDULED
    return world.live_room([], status=status, kind=Host.Kind.COUNTY_HEAD, host_title="副县长", title=title,
                           starts_in=start_in, hours=hours).stream


# --- home -------------------------------------------------------------------------------------------

def test_home_says_honestly_that_no_stream_is_on(client, world):
    world.listed_product(name="洋河蓝莓")
    page = text(client.get("/"))
    assert "现在没有正在进行或已预告的直播" in page
    assert "洋河蓝莓" in page


def test_home_lists_live_then_upcoming_streams_with_room_links(client, world):
    later = make_stream(world, title="明前茶专场", start_in=dt.timedelta(days=2))
    soon = make_stream(world, title="蓝莓采摘季", start_in=dt.timedelta(hours=3))
    live = make_stream(world, title="副县长带你逛山里村", start_in=dt.timedelta(minutes=-30), live=True)
    make_stream(world, title="已经结束的直播", start_in=dt.timedelta(hours=-1), end=True)
    cancelled = make_stream(world, title="取消的直播", start_in=dt.timedelta(days=1))
    live_services.cancel_stream(actor=world.operator, stream=cancelled, reason="天气原因")
    response = client.get("/")
    html = response.content.decode()
    page = text(response)
    assert "现在没有正在进行或已预告的直播" not in page
    assert page.index("副县长带你逛山里村") < page.index("蓝莓采摘季") < page.index("明前茶专场")
    assert "已经结束的直播" not in page and "取消的直播" not in page
    for stream in (live, soon, later):
        assert f'href="/live/{stream.pk}/"' in html
    assert "直播中" in page and "预告" in page
    assert "胶州助农官方频道" in page and "副县长" in page and "公益直播" in page


def test_home_leaves_out_a_scheduled_stream_that_never_started(client, world):
    stale = make_stream(world, title="过期未开播", start_in=dt.timedelta(minutes=-50), hours=1)
    # Time passes without the host going live: move the planned end into the past.
    Stream.objects.filter(pk=stale.pk).update(planned_end=timezone.now() - dt.timedelta(minutes=5))
    page = text(client.get("/"))
    assert "过期未开播" not in page and "现在没有正在进行或已预告的直播" in page


def test_home_shows_only_listed_products(client, world):
    world.listed_product(name="洋河蓝莓")
    world.draft_product(name="蓝莓果酱")
    page = text(client.get("/"))
    assert "洋河蓝莓" in page and "¥39.90" in page and "产地：胶州市" in page
    assert "蓝莓果酱" not in page


def test_product_cards_name_the_county_of_a_village_origin(client, world):
    product = catalog.create_product(actor=world.operator, name="山里村蓝莓", price="39.90", cost_floor="20.00",
                                     origin=world.village, producers=[world.producer], batches=[world.batch])
    catalog.submit_for_inspection(actor=world.operator, product=product)
    world.inspect()
    page = text(client.get("/search/", {"q": "山里村蓝莓"}))
    assert "产地：胶州市山里村" in page


def test_home_with_nothing_listed_says_so(client, db):
    page = text(client.get("/"))
    assert "还没有通过抽检上架的商品" in page


# --- product page -----------------------------------------------------------------------------------

def test_listed_product_page_shows_everything_a_buyer_needs(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = world.listed_product(name="洋河蓝莓", price="39.90", unit_size="2斤装",
                                   description="山里村沙壤土种植。\n当天采摘，冷链发货。")
    ProductImage.objects.create(product=product, caption="刚摘下的蓝莓",
                                image=SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"))
    response = client.get(f"/p/{product.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    page = text(response)
    assert "洋河蓝莓" in page
    assert "¥39.90" in page and "斤" in page and "2斤装" in page
    assert "当天采摘，冷链发货。" in page
    assert "山东省青岛市胶州市" in page  # origin, full name
    assert "鲁家蓝莓园" in page and "洋河镇山里村" in page  # producer and village
    assert f'href="/producers/{world.producer.pk}/"' in html
    assert f'href="/regions/{world.county.code}/"' in html
    assert 'alt="刚摘下的蓝莓"' in html and "/media/products/" in html
    # Inspection status of the batch, with its date, and the trace link.
    assert "抽检合格" in page
    assert timezone.localdate().strftime("%Y年%-m月%-d日") in page
    assert f'href="/t/{world.batch.trace_code}/"' in html
    assert "已下架" not in page


def test_product_of_a_registered_poor_household_has_badge_but_no_personal_data(client, world):
    world.producer.contact_phone = "13912345678"
    world.producer.save(update_fields=["contact_phone"])
    product = world.listed_product()
    response = client.get(f"/p/{product.pk}/")
    html = response.content.decode()
    assert "帮扶产品" in html
    assert "建档立卡贫困户" not in html  # the household's status is not labelled on it
    assert "6222020200001234" not in html and "13912345678" not in html and "鲁某" not in html


def test_product_without_poor_household_supplier_has_no_badge(client, world):
    herder = create_producer(actor=world.operator, name="才让家庭牧场", village=world.village)
    world.producer = herder
    world.plot = create_plot(actor=world.operator, producer=herder, name="夏季草场", area_mu="300", crop="牦牛")
    world.batch = world.new_batch(unit="head", quantity="20")
    product = world.listed_product(name="牦牛肉干", price="88.00", cost_floor="50.00")
    assert "帮扶产品" not in client.get(f"/p/{product.pk}/").content.decode()


def test_delisted_product_still_resolves_with_notice_and_without_buy_block(client, world):
    product = world.listed_product(name="洋河蓝莓")
    catalog.delist_product(actor=world.operator, product=product, reason="产季结束")
    response = client.get(f"/p/{product.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert "已下架" in page and "暂不可购买" in page
    html = response.content.decode()
    assert 'class="buy-box"' not in html and 'name="quantity"' not in html and "立即购买" not in page
    assert "洋河蓝莓" in page and world.batch.trace_code in page


def test_product_delisted_by_a_failed_inspection_shows_the_failure(client, world):
    product = world.listed_product(name="洋河蓝莓")
    world.inspect(result="fail")
    page = text(client.get(f"/p/{product.pk}/"))
    assert "已下架" in page and "抽检不合格" in page


def test_listed_product_has_the_buy_block(client, world):
    product = world.listed_product()
    assert 'class="buy-box"' in client.get(f"/p/{product.pk}/").content.decode()


@pytest.mark.parametrize("stage", ["draft", "awaiting_inspection"])
def test_unlisted_products_are_404(client, world, stage):
    product = world.draft_product(name="蓝莓果酱")
    if stage == "awaiting_inspection":
        catalog.submit_for_inspection(actor=world.operator, product=product)
        product.refresh_from_db()
        assert product.status == "awaiting_inspection"
    response = client.get(f"/p/{product.pk}/")
    assert response.status_code == 404
    assert "蓝莓果酱" not in response.content.decode()
    assert "页面不存在" in text(response)


@pytest.mark.parametrize("path", ["/p/999999/", "/p/0/", "/p/99999999999999999999999/", "/p/abc/", "/p/-1/"])
def test_unknown_product_ids_are_404_not_500(client, db, path):
    assert client.get(path).status_code == 404


# --- search -----------------------------------------------------------------------------------------

@pytest.fixture
def catalogue(world):
    blueberry = world.listed_product(name="洋河蓝莓", price="39.90", cost_floor="20.00")
    jam = world.draft_product(name="蓝莓果酱")
    world.producer = create_producer(actor=world.operator, name="才让家庭牧场", village=world.village)
    world.plot = create_plot(actor=world.operator, producer=world.producer, name="夏季草场", area_mu="300",
                             crop="牦牛")
    world.batch = world.new_batch(unit="head", quantity="20")
    yak = world.listed_product(name="青海牦牛肉干", price="88.00", cost_floor="50.00")
    return {"blueberry": blueberry, "jam": jam, "yak": yak}


@pytest.mark.parametrize(("query", "found", "absent"), [
    ("藍莓", "洋河蓝莓", "青海牦牛肉干"),
    ("犛牛肉乾", "青海牦牛肉干", "洋河蓝莓"),
    ("蓝莓", "洋河蓝莓", "蓝莓果酱"),
])
def test_search_page_finds_simplified_and_traditional_queries(client, catalogue, query, found, absent):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    page = text(response)
    assert found in page and absent not in page
    assert "找到 1 件商品" in page
    assert f'href="/p/{catalogue["blueberry" if found == "洋河蓝莓" else "yak"].pk}/"' in response.content.decode()


def test_search_lists_name_matches_first(client, world):
    world.listed_product(name="蓝莓干", description="和敖汉小米一起煮粥。")
    world.listed_product(name="敖汉小米")
    page = text(client.get("/search/", {"q": "小米"}))
    assert "找到 2 件商品" in page
    assert page.index("敖汉小米 ") < page.index("蓝莓干")


def test_search_without_results_says_so(client, catalogue):
    page = text(client.get("/search/", {"q": "苹果"}))
    assert "没有找到与“苹果”相关的在售商品" in page


def test_empty_search_shows_a_prompt(client, catalogue):
    response = client.get("/search/")
    assert response.status_code == 200
    assert "例如 蓝莓、牦牛肉干" in text(response)


def test_over_long_query_gets_a_clear_message(client, catalogue):
    response = client.get("/search/", {"q": "蓝" * 101})
    assert response.status_code == 400
    page = text(response)
    assert "搜索词太长了：最多 100 个字。" in page
    assert "蓝" * 101 not in response.content.decode()


@pytest.mark.parametrize("query", ["蓝莓\x00", "\x1b[31m蓝莓", "蓝\u202e莓", "蓝\n莓"])
def test_control_characters_get_a_clear_message(client, catalogue, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 400
    assert "控制字符" in text(response)
    assert query not in response.content.decode()


def test_search_results_are_paginated(client, world):
    for i in range(26):
        world.listed_product(name=f"洋河蓝莓{i}号")
    first = client.get("/search/", {"q": "蓝莓"})
    assert "找到 26 件商品" in text(first) and "第 1 / 2 页" in text(first)
    second = client.get("/search/", {"q": "蓝莓", "page": "2"})
    assert text(second).count("洋河蓝莓") >= 2
    assert client.get("/search/", {"q": "蓝莓", "page": "x"}).status_code == 200


def test_search_query_is_escaped(client, catalogue):
    html = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_expired_form_gets_a_friendly_page(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "页面已过期" in text(response)


# --- English ----------------------------------------------------------------------------------------

def test_pages_render_in_english(client, world):
    product = world.listed_product(name="洋河蓝莓")
    home = text(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Local produce" in home and "Search" in home
    assert "产地好物" not in home
    page = text(client.get(f"/p/{product.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Inspection and traceability" in page and "Passed inspection" in page and "Origin" in page
    assert "洋河蓝莓" in page  # product data stays as entered


def test_language_switch_persists(client, world):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/search/"})
    assert response.status_code == 302 and response["Location"] == "/search/"
    assert "Search produce" in text(client.get("/search/"))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "搜索农产品" in text(client.get("/search/"))
