"""Visitors on phones and without JavaScript: the public pages must work at 390 px without sideways scrolling,
and the product page, trace page and replay list must show their essentials with JavaScript off.

Runs after test_story.py (file order), so the replay list holds the story's replay when the story ran.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PHONE

PRODUCT = "安化茯砖茶 1千克"  # seeded (zhunong.demo.world), listed, with a passed inspection


def open_product(page, name: str = PRODUCT) -> None:  # noqa: ANN001
    """From the home page or search, as a visitor finds a product."""
    page.goto("/search/?q=" + name.split(" ")[0])
    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def open_trace(page) -> None:  # noqa: ANN001
    open_product(page)
    page.get_by_role("link", name="查看溯源信息").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("溯源信息")


def assert_fits_phone(page) -> None:  # noqa: ANN001
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: the page is {width} px wide on a {PHONE['width']} px phone"


def test_phone_home(pages) -> None:  # noqa: ANN001
    """Phone width: home page"""
    page = pages.open("phone", phone=True)
    page.goto("/")
    expect(page.locator(".site-header .brand")).to_have_text("助农直播")
    expect(page.get_by_role("heading", name="正在直播与直播预告")).to_be_visible()
    expect(page.get_by_role("heading", name="产地好物")).to_be_visible()
    expect(page.get_by_role("link", name="安化黑茶·明前千两茶").first).to_be_visible()
    assert_fits_phone(page)
    pages.shot(page, "phone-home")


def test_phone_product(pages) -> None:  # noqa: ANN001
    """Phone width: product page"""
    page = pages.open("phone", phone=True)
    open_product(page)
    expect(page.get_by_role("button", name="立即购买")).to_be_visible()
    assert_fits_phone(page)
    pages.shot(page, "phone-product")


def test_phone_trace(pages) -> None:  # noqa: ANN001
    """Phone width: trace page"""
    page = pages.open("phone", phone=True)
    open_trace(page)
    expect(page.get_by_role("heading", name="市场监管抽检")).to_be_visible()
    assert_fits_phone(page)
    pages.shot(page, "phone-trace")


def test_phone_room(pages, journal) -> None:  # noqa: ANN001
    """Phone width: live room"""
    page = pages.open("phone", phone=True)
    if "room_url" not in journal:
        pytest.fail("the story did not reach its room (run the whole e2e folder)")
    page.goto(journal["room_url"])
    expect(page.get_by_role("heading", level=1)).to_contain_text(journal["stream_title"])
    assert_fits_phone(page)
    pages.shot(page, "phone-room")


def test_phone_replays(pages, journal) -> None:  # noqa: ANN001
    """Phone width: replay list and a replay"""
    page = pages.open("phone", phone=True)
    page.goto("/replays/")
    expect(page.get_by_role("heading", name="直播回放", level=1)).to_be_visible()
    assert_fits_phone(page)
    pages.shot(page, "phone-replays")
    if "pinned_product" in journal:  # the story's replay (made only with the media server)
        page.get_by_role("link", name=journal["stream_title"]).first.click()
        expect(page.get_by_role("heading", name="商品章节")).to_be_visible()
        assert_fits_phone(page)
        pages.shot(page, "phone-replay")


def test_no_js_product(pages) -> None:  # noqa: ANN001
    """JavaScript off: product page"""
    page = pages.open("nojs", javascript=False)
    open_product(page)
    expect(page.locator(".price").first).to_contain_text("128")
    expect(page.get_by_role("heading", name="生产者")).to_be_visible()
    expect(page.get_by_text("抽检合格").first).to_be_visible()
    expect(page.get_by_role("heading", name="买家评价")).to_be_visible()
    # The buy form is a plain form: without JavaScript it still leads to sign-in and on to the order.
    page.get_by_role("button", name="立即购买").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    pages.shot(page, "nojs-product-buy-asks-login")


def test_no_js_trace(pages) -> None:  # noqa: ANN001
    """JavaScript off: trace page"""
    page = pages.open("nojs", javascript=False)
    open_trace(page)
    expect(page.get_by_role("heading", name="产地")).to_be_visible()
    expect(page.get_by_text("安化县").first).to_be_visible()
    expect(page.get_by_text("抽检合格").first).to_be_visible()
    expect(page.get_by_role("heading", name="从地头到餐桌")).to_be_visible()
    expect(page.get_by_role("img", name="溯源二维码")).to_be_visible()  # a picture, no script needed
    pages.shot(page, "nojs-trace")


def test_no_js_replays(pages, journal, server) -> None:  # noqa: ANN001
    """JavaScript off: replay list, and a chapter link showing the product explained then"""
    page = pages.open("nojs", javascript=False)
    page.goto("/replays/")
    expect(page.get_by_role("heading", name="直播回放", level=1)).to_be_visible()
    pages.shot(page, "nojs-replays")
    if "pinned_product" not in journal:
        if not server.video:
            pytest.skip("no replay: no video in this run (nginx-rtmp or ffmpeg missing, or ZHUNONG_E2E_VIDEO=0)")
        pytest.fail("the story did not produce its replay (run the whole e2e folder)")
    card = page.locator("li.card").filter(has_text=journal["stream_title"])
    expect(card).to_be_visible()
    pinned = journal["pinned_product"]
    card.get_by_role("link", name=pinned).click()
    # Without JavaScript the ?t= link picks the chapter on the server: the shelf shows what was explained.
    shelf = page.locator("aside").filter(has_text="正在讲解")
    expect(shelf).to_contain_text(pinned)
    expect(shelf.get_by_role("button").first).to_be_visible()
    pages.shot(page, "nojs-replay-chapter")
