"""The county operator's data centre (大数据中心) on a 390 px phone and on a desktop: the header link, the
county home, what reached the demo's households, a stream's board; charts drawn, nothing wider than the phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, login


def assert_fits_phone(page) -> None:  # noqa: ANN001
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: the page is {width} px wide on a {PHONE['width']} px phone"


def charts_drawn(page) -> int:  # noqa: ANN001
    """Wait until ECharts has drawn every chart of the page (an <svg> in each); how many there are."""
    canvases = page.locator(".dc-canvas").count()
    # (A locator, not wait_for_function: the page's CSP forbids evaluating strings.)
    expect(page.locator(".dc-canvas svg")).to_have_count(canvases)
    return canvases


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_operator_reads_the_data_centre(pages, phone) -> None:  # noqa: ANN001
    page = pages.open("phone" if phone else "desktop", phone=phone)
    login(page, "operator")
    page.goto("/")
    page.get_by_role("link", name="数据中心").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("数据中心")
    assert charts_drawn(page) >= 1
    expect(page.get_by_role("heading", name="近7天与前7天")).to_be_visible()
    if phone:
        assert_fits_phone(page)
    pages.shot(page, f"{'phone' if phone else 'desktop'}-data-centre-home")

    page.get_by_role("link", name="到户收入").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("到户收入")
    # The demo co-op's members: two registered poverty households among them (zhunong.demo.income).
    expect(page.get_by_role("link", name="彭家茶园")).to_be_visible()
    expect(page.get_by_role("link", name="谌家茶园")).to_be_visible()
    assert charts_drawn(page) >= 1
    if phone:
        assert_fits_phone(page)
    pages.shot(page, f"{'phone' if phone else 'desktop'}-data-centre-income")

    page.get_by_role("link", name="县域首页").first.click()
    page.locator("section[aria-labelledby='t-streams'] tbody a").first.click()
    expect(page.get_by_role("heading", name="讲解与秒杀")).to_be_visible()
    assert charts_drawn(page) == 3
    if phone:
        assert_fits_phone(page)
    pages.shot(page, f"{'phone' if phone else 'desktop'}-data-centre-stream")
