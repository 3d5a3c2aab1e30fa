"""Dead ends a new user ran into (issue 15): buying while signed out must continue after the login, not end
on HTTP 405; the waybill check must run in Chrome (its pattern compiles under the `v` flag); every page has
a favicon and logs no console error."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import PASSWORD
from .test_visitors import PRODUCT, open_product


def _watch_console(page) -> list[str]:  # noqa: ANN001
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_buy_signed_out_continues_after_login(pages) -> None:  # noqa: ANN001
    """Signed out: 立即购买 → login → back on the product → 立即购买 → the order (never 405)"""
    page = pages.open("buyer", phone=True)
    errors = _watch_console(page)
    open_product(page)
    product_url = page.url
    page.get_by_role("button", name="立即购买").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill("buyer")
    page.get_by_label("密码").fill(PASSWORD)
    response_codes: list[int] = []
    page.on("response", lambda r: response_codes.append(r.status) if r.request.is_navigation_request() else None)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PRODUCT)
    assert page.url.split("#")[0] == product_url, page.url
    assert 405 not in response_codes
    pages.shot(page, "dead-ends-buy-after-login")
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_role("button", name="去支付")).to_be_visible()
    assert not errors, errors


def test_waybill_pattern_runs_in_chrome_and_pages_have_a_favicon(pages) -> None:  # noqa: ANN001
    """Producer: the waybill field refuses a bad number in the browser; 发货 moves the parcel off the list; favicon"""
    page = pages.open("coop")
    errors = _watch_console(page)
    page.goto("/")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_count(1)
    assert page.request.get(icon.get_attribute("href")).status == 200
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("coop")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".site-header .who")).to_be_visible()
    page.goto("/fulfilment/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("待发货")
    row = page.locator("tr").filter(has=page.locator('input[name="tracking_number"]')).first
    field = row.locator('input[name="tracking_number"]')
    expect(field).to_have_attribute("pattern", re.compile("."))
    # A pattern Chrome cannot compile is skipped: patternMismatch would stay false for any value.
    field.fill("运单号!!")
    assert field.evaluate("el => el.validity.patternMismatch") is True
    field.fill("SF-1234567")
    assert field.evaluate("el => el.validity.valid") is True
    # 发货 through htmx: the list reloads, the parcel has left 待发货 and the message names its order.
    number = row.locator("code").first.inner_text().strip()
    field.fill("SF1520261205")
    row.get_by_role("button", name="发货").click()
    expect(page.locator(".messages")).to_contain_text(f"已发货：{number}")
    expect(page.locator("tr").filter(has_text=number)).to_have_count(0)
    pages.shot(page, "dead-ends-packing-list-shipped")
    assert not errors, errors
