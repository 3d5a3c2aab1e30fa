"""The host console on a phone (issue 15): video, chat and shelf first, the tool forms one at a time behind
tabs, with and without JavaScript; the desktop keeps chat beside the video and every tool open."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, login


def _open_console(page) -> None:  # noqa: ANN001
    login(page, "host")
    page.goto("/live/manage/")
    page.get_by_role("link", name="控制台").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("主播控制台")


def _top(page, selector: str) -> float:  # noqa: ANN001
    return page.locator(selector).first.bounding_box()["y"]


def _cards(page):  # noqa: ANN001, ANN202
    return page.locator('[data-role="tools"] > section:has(h2)')


def test_console_on_a_phone_puts_video_chat_and_shelf_first_and_tools_behind_tabs(pages) -> None:  # noqa: ANN001
    """Phone: the host console shows video, chat, shelf, then one tool at a time"""
    page = pages.open("host-phone", phone=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _open_console(page)
    order = [sel for sel in (".player", ".room-chat", ".console-shelf", '[data-role="tools"]')
             if page.locator(sel).count()]
    tops = [_top(page, sel) for sel in order]
    assert tops == sorted(tops), dict(zip(order, tops, strict=True))
    cards = _cards(page)
    assert cards.count() >= 2
    tabs = page.locator(".tool-tabs [role=tab]")
    expect(tabs).to_have_count(cards.count())
    expect(cards.nth(0)).to_be_visible()
    for i in range(1, cards.count()):
        expect(cards.nth(i)).to_be_hidden()
    tabs.last.click()
    expect(cards.last).to_be_visible()
    expect(cards.nth(0)).to_be_hidden()
    expect(tabs.last).to_have_attribute("aria-selected", "true")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the console is {width} px wide on a phone"
    height = page.evaluate("document.documentElement.scrollHeight")
    pages.shot(page, "phone-console-390")
    assert height < 2400, f"the console is {height} px tall on a phone"
    assert not errors, errors


def test_console_on_a_phone_without_javascript_shows_every_tool(pages) -> None:  # noqa: ANN001
    """Phone without JavaScript: every tool card follows the shelf (no tabs to press)"""
    page = pages.open("host-phone-nojs", phone=True, javascript=False)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("host")
    page.get_by_label("密码").fill("zhunong-demo")
    page.get_by_role("button", name="登录").click()
    page.goto("/live/manage/")
    page.get_by_role("link", name="控制台").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("主播控制台")
    cards = _cards(page)
    assert cards.count() >= 2
    for i in range(cards.count()):
        expect(cards.nth(i)).to_be_visible()
    assert _top(page, ".console-shelf") < _top(page, '[data-role="tools"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_console_on_a_desktop_keeps_chat_beside_the_video_and_every_tool_open(pages) -> None:  # noqa: ANN001
    """Desktop: chat on the right of the video, all tool cards open, no tabs"""
    page = pages.open("host-desktop")
    _open_console(page)
    main = page.locator(".room-main").bounding_box()
    chat = page.locator(".room-chat").bounding_box()
    assert chat["x"] > main["x"] + main["width"] - 1, (main, chat)
    expect(page.locator(".tool-tabs")).to_be_hidden()
    cards = _cards(page)
    for i in range(cards.count()):
        expect(cards.nth(i)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    pages.shot(page, "desktop-console-1280")
