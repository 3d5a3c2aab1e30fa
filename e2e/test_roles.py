"""Every role finds its tools (issue 15), in the browser: each demo login signs in through the form, lands where
it works (zhunong.workbench.places.landing_url) and the site header shows its places (data-place keys) next to
直播 and 回放, at 1280 px and on a 390 px phone. The platform admin lands in Django's admin, in Chinese.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD

# (login, where sign-in lands, header places it must show); zhunong.demo.world.LOGINS and workbench.places
ROLES = [
    ("operator", r"/workbench/", ["workbench", "streams"]),
    ("inspector", r"/office/", ["inspections", "flags"]),
    ("jijian", r"/office/", ["flags", "approvals"]),
    ("coop", r"/fulfilment/", ["packing", "sales_*"]),
    ("host", r"/live/\d+/console/", ["console"]),
    ("buyer", r"/", []),
]
# What the landing page shows its person first (a heading of the page they came to work in).
HEADINGS = {"operator": "工作台", "inspector": "廉洁", "jijian": "廉洁", "coop": "待发货", "host": "茶园直播",
            "buyer": ""}


def sign_in(page, username: str) -> None:  # noqa: ANN001
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.locator(".site-header .who, #user-tools").first.wait_for()


def header_places(page) -> list[str]:  # noqa: ANN001
    page.locator(".personal-nav-slot").first.wait_for(state="detached")  # a shared page's personal part
    return page.locator(".site-header [data-place]").evaluate_all("els => els.map(e => e.dataset.place)")


def fits(page) -> None:  # noqa: ANN001
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width} px wide"


@pytest.mark.parametrize(("username", "landing", "places"), ROLES, ids=[r[0] for r in ROLES])
def test_each_role_lands_where_it_works_and_the_header_shows_its_places(pages, username: str, landing: str,  # noqa: ANN001
                                                                        places: list[str]) -> None:
    """Roles: sign in → the role's own page; the header lists its places and 直播, 回放 (desktop and phone)"""
    desk = pages.open(f"role-{username}")
    sign_in(desk, username)
    assert re.fullmatch(landing, desk.url.removeprefix(pages.server.url).split("?")[0]), desk.url
    if HEADINGS[username]:
        expect(desk.get_by_role("heading", level=1)).to_contain_text(HEADINGS[username])
    shown = header_places(desk)
    for key in places:
        if key.endswith("*"):
            assert any(s.startswith(key[:-1]) for s in shown), (key, shown)
        else:
            assert key in shown, (key, shown)
    if not places:
        assert shown == [], shown
    nav = desk.locator(".site-header")
    expect(nav.get_by_role("link", name="直播", exact=True)).to_have_attribute("href", "/live/")
    expect(nav.get_by_role("link", name="回放", exact=True)).to_have_attribute("href", "/replays/")
    pages.shot(desk, f"roles-{username}-landing-1280")
    # Every place in the header opens (no 4xx) for its role.
    for href in desk.locator(".site-header [data-place]").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        response = desk.request.get(href)
        assert response.status == 200, (href, response.status)

    phone = pages.open(f"role-{username}-phone", phone=True)
    phone.context.add_cookies(desk.context.cookies())
    phone.goto(desk.url)
    assert header_places(phone) == shown
    fits(phone)
    pages.shot(phone, f"roles-{username}-landing-390")


def test_the_platform_admin_lands_in_the_admin_in_chinese(pages) -> None:  # noqa: ANN001
    """Admin: sign in → Django's admin, its sections in Chinese (sign-in throttling too); the site header's places"""
    page = pages.open("role-admin")
    # A failed sign-in first, so the throttle's list has a row to show its columns.
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("nobody-e2e")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("form [role=alert], .errorlist, .notice.error").first).to_be_visible()
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    content = page.locator("#content-main")
    expect(content).to_contain_text("登录限制")  # django-axes' section (zhunong.accounts.apps)
    expect(content).to_contain_text("登录尝试")
    assert not re.search(r"\bAxes\b|Access attempts|Access logs", content.inner_text()), content.inner_text()[:400]
    pages.shot(page, "roles-admin-landing-1280")
    page.goto("/admin/axes/accessattempt/")
    expect(page.locator("#content")).to_contain_text("尝试时间")
    expect(page.locator("#content")).not_to_contain_text("Attempt Time")
    page.goto("/")
    assert {"admin", "workbench", "streams"} <= set(header_places(page))
