"""The sweep (issue 15, "checked in the browser"): for every demo role, sign in, then visit every page reachable
by following links from the role's landing page and the header, at 390x844 and 1280x900, and fail with a
list of what a person would trip on:

- horizontal overflow (`scrollWidth > innerWidth`), naming the element that sticks out furthest;
- console errors and uncaught exceptions;
- English words on a Chinese page (visible text; a small explicit allow-list of proper nouns and codes);
- a 4xx/5xx answer the visit did not expect (the page itself or anything it loads).

Links are same-origin GETs, de-duplicated by URL pattern (a path segment with a digit, or a code in capitals,
becomes `{n}`; the query keeps only its keys), at most `MAX_PAGES` per role and `MAX_DEPTH` clicks from the
landing page; logout,
downloads, API, media and the admin beyond its index and one changelist are skipped. A screenshot of every page
at both widths is kept in var/e2e/sweep-<role>-<n>-<width>.png, and the findings in var/e2e/sweep-<role>.txt.

Runs after the story (file order), so the county holds the story's stream, order and replay.
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import PASSWORD

# (label, username or None for the signed-out visitor); zhunong.demo.world.LOGINS
ROLES = [
    ("visitor", None),
    ("buyer", "buyer"),
    ("host", "host"),
    ("coop", "coop"),
    ("operator", "operator"),
    ("inspector", "inspector"),
    ("jijian", "jijian"),
    ("admin", "admin"),
]
MAX_PAGES = 40
MAX_DEPTH = 2

# Paths never visited: actions, downloads, machine answers, and pages that are not a person's page.
SKIP_PATH = re.compile(
    r"^/(api/|i18n/|media/|static/|internal/|accounts/logout/|accounts/my-data/download/|certificates/"
    r"|pay/|video/rtmp/|live/jsi18n/)"
    r"|/(qr\.svg|download/?|export/?)$|\.(csv|pdf|xlsx|json|m3u8|ts|svg|png|jpe?g|webp|zip)$"
)
ADMIN_INDEX = "/admin/"
ADMIN_CHANGELIST = re.compile(r"^/admin/[a-z_]+/[a-z_]+/$")

# Latin words a Chinese page may show: brand, product and method names, units, standards. Words in capitals (GS1,
# EPCIS, HLS, MAE, batch codes such as AH-MQ-PENG) and words with a digit, `_`, `@`, `/`, `.` or `:` are codes and
# pass anyway. Everything else in Latin letters is English that a zh-hans visitor sees untranslated.
ALLOWED_LATIN = {
    "zhunong",  # the project's name
    "Alipay", "WebP", "Excel", "xlsx", "csv", "App", "Chrome", "Edge", "Safari", "AutoETS", "Croston",  # names
    "kg", "g", "ml", "km", "cm", "mm", "ms", "min",  # units
    "Pb", "Cd", "Hg", "As", "Cr", "Sn", "Cu", "Zn", "Ni",  # elements in inspection results (铅(以Pb计))
    "English",  # the language switch (lang="en")
}

# Demo logins are shown as who did what (操作人：operator-henan): ids, not English (zhunong/demo/world.py).
DEMO_LOGIN = r"^(admin|operator|inspector|host|buyer|coop|jijian)(-[a-z]+)*$"

# A visit's expected 4xx/5xx: (path pattern, status). Empty: every page a link leads to must answer.
EXPECTED_STATUS: set[tuple[str, int]] = set()

# What each page visit runs in the browser: the element furthest to the right and the visible English.
PROBE = r"""
([allowed, login]) => {
  const LOGIN = new RegExp(login);
  const vw = window.innerWidth;
  const sw = document.documentElement.scrollWidth;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/).filter(Boolean).slice(0, 3);
    if (cls.length) s += '.' + cls.join('.');
    return s;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 5; e = e.parentElement) parts.unshift(describe(e));
    return parts.join(' > ');
  };
  let widest = null;
  if (sw > vw) {
    // The deepest element whose right edge is furthest out: the one to fix, not its ancestors.
    let best = -1;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const right = Math.round(r.right + window.scrollX);
      if (right > vw && right >= best) { best = right; widest = path(el) + ' (right edge ' + right + ' px, '
        + Math.round(r.width) + ' px wide)'; }
    }
  }
  const english = [];
  if ((document.documentElement.lang || '').startsWith('zh')) {
    const skip = 'script,style,noscript,template,code,kbd,samp,pre,textarea,[translate="no"],[lang]:not(html),.who';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue.trim();
      if (!/[A-Za-z]{2}/.test(text)) continue;
      const el = n.parentElement;
      if (!el || el.closest(skip)) continue;
      if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) continue;  // visually hidden (a screen reader's caption)
      // Words with a digit or an underscore are codes and ids (SF1234, pi_..., GS1), not language.
      const words = text.split(/\s+/).filter((w) => !/[0-9_@\/.:=#]/.test(w))
        .flatMap((w) => w.match(/[A-Za-z][A-Za-z'-]*[A-Za-z]/g) || [])
        .filter((w) => /[a-z]/.test(w) && !allowed.includes(w) && !LOGIN.test(w));
      if (words.length) english.push(describe(el) + ': ' + JSON.stringify(words) + ' in "' + text.slice(0, 80) + '"');
    }
  }
  const imgs = [...document.images].filter((i) => i.complete && i.naturalWidth === 0 && i.src)
    .map((i) => 'broken image ' + i.src);
  return {scrollWidth: sw, innerWidth: vw, widest, english: english.slice(0, 8), broken: imgs};
}
"""


def pattern(url: str) -> str:
    parts = urlsplit(url)
    # Ids and codes (a digit, or six or more capitals: trace codes such as KWSZBETFCA) stand for their kind.
    path = "/".join("{n}" if re.search(r"\d", seg) or re.fullmatch(r"[A-Z0-9]{6,}", seg) else seg
                    for seg in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


@dataclass
class Sweep:
    origin: str
    findings: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)
    admin_changelist: str = ""

    def wanted(self, href: str) -> str | None:
        """The same-origin path (with query) a link leads to, when the sweep should visit it."""
        if not href or not href.startswith(self.origin):
            return None
        parts = urlsplit(href)
        path = parts.path + ("?" + parts.query if parts.query else "")
        if SKIP_PATH.search(parts.path) or "format" in dict(parse_qsl(parts.query)):  # ?format=csv: a download
            return None
        if parts.path.startswith("/admin/") and parts.path != ADMIN_INDEX:
            if not ADMIN_CHANGELIST.match(parts.path) or parts.query:
                return None
            if self.admin_changelist and self.admin_changelist != parts.path:
                return None
            self.admin_changelist = parts.path
        key = pattern(path)
        if key in self.seen:
            return None
        self.seen.add(key)
        return path


def _links(page) -> list[str]:  # noqa: ANN001
    return page.eval_on_selector_all(
        "a[href]:not([download]):not([target=_blank])", "els => els.map(a => a.href.split('#')[0])")


def _check(page, label: str, path: str, width: str, sweep: Sweep, problems: list[str], status: int) -> None:  # noqa: ANN001
    where = f"{label} {width} {path}"
    if status >= 400 and (pattern(path), status) not in EXPECTED_STATUS:
        sweep.findings.append(f"{where}: answered HTTP {status}")
    probe = page.evaluate(PROBE, [sorted(ALLOWED_LATIN), DEMO_LOGIN])
    # Against the screen's width, not innerWidth: a phone widens its layout viewport to fit a page that overflows.
    screen_width = page.viewport_size["width"]
    if probe["scrollWidth"] > screen_width:
        sweep.findings.append(f"{where}: {probe['scrollWidth']} px wide on a {screen_width} px screen; "
                              f"widest: {probe['widest']}")
    sweep.findings.extend(f"{where}: English on a Chinese page: {e}" for e in probe["english"])
    sweep.findings.extend(f"{where}: {b}" for b in probe["broken"])
    sweep.findings.extend(f"{where}: {p}" for p in problems)


def _watch(page, origin: str) -> list[str]:  # noqa: ANN001
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console error: {m.text[:200]}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {str(exc)[:200]}"))

    def answered(resp) -> None:  # noqa: ANN001
        if resp.status >= 400 and resp.url.startswith(origin) and not resp.request.is_navigation_request():
            problems.append(f"{resp.request.method} {resp.url[len(origin):]} answered {resp.status}")
    page.on("response", answered)
    return problems


def _login(page, username: str) -> None:  # noqa: ANN001
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # The platform admin lands in Django's admin, which has its own header.
    page.locator(".site-header .who, #user-tools").first.wait_for()


@pytest.mark.parametrize(("label", "username"), ROLES, ids=[r[0] for r in ROLES])
def test_sweep(pages, server, artifacts, label: str, username: str | None) -> None:  # noqa: ANN001
    """Sweep: every page a role reaches from its landing page and header, at 390 px and 1280 px"""
    desk = pages.open(f"sweep-{label}-desktop")
    if username:
        _login(desk, username)
    else:
        desk.goto("/")
    landing = urlsplit(desk.url).path or "/"
    phone = pages.open(f"sweep-{label}-phone", phone=True)
    phone.context.add_cookies(desk.context.cookies())
    sweep = Sweep(origin=server.url)
    queue: deque[tuple[str, int]] = deque()
    # ZHUNONG_E2E_SWEEP_ALSO: extra start pages (comma-separated paths), e.g. to check pages no link reaches yet.
    extra = [p.strip() for p in os.environ.get("ZHUNONG_E2E_SWEEP_ALSO", "").split(",") if p.strip()]
    for start in (landing, "/", *extra):
        if sweep.wanted(server.url + start):
            queue.append((start, 0))
    probes = {"390": (phone, _watch(phone, server.url)), "1280": (desk, _watch(desk, server.url))}
    while queue and len(sweep.visited) < MAX_PAGES:
        path, depth = queue.popleft()
        n = len(sweep.visited)
        sweep.visited.append(path)
        links: list[str] = []
        for width, (page, problems) in probes.items():
            problems.clear()
            try:
                response = page.goto(path, wait_until="load")
            except PlaywrightError as exc:  # a link to a file (Content-Disposition) is not a page
                if "Download is starting" not in str(exc):
                    raise
                break
            status = response.status if response else 0
            if urlsplit(page.url).path.startswith("/accounts/login/") and username:
                sweep.findings.append(f"{label} {width} {path}: sent to the login page (signed out?)")
            try:  # a page the front caches for everyone fetches the header's personal part (/me/nav/) after load
                page.locator(".personal-nav-slot").first.wait_for(state="detached", timeout=10_000)
            except PlaywrightTimeout:
                sweep.findings.append(f"{label} {width} {path}: the header's personal part never arrived")
            page.wait_for_timeout(150)  # let deferred scripts and htmx's first requests report their errors
            _check(page, label, path, width, sweep, list(problems), status)
            page.screenshot(path=str(artifacts / f"sweep-{label}-{n:02d}-{width}.png"), full_page=True)
            if width == "1280" and depth < MAX_DEPTH:
                links = _links(page)
        if username and depth < MAX_DEPTH:
            # Links of the phone's page too (a collapsed menu may hold other links than the desktop's).
            links += _links(phone)
        for href in links:
            wanted = sweep.wanted(href)
            if wanted:
                queue.append((wanted, depth + 1))
    report = artifacts / f"sweep-{label}.txt"
    report.write_text("visited:\n" + "\n".join(f"  {p}" for p in sweep.visited) + "\n\nfindings:\n"
                      + "\n".join(f"  {f}" for f in sweep.findings) + "\n", encoding="utf-8")
    assert len(sweep.visited) > 1, f"{label}: the landing page {landing} links to nothing"
    # Every finding fails, English text and 4xx links too (issue #15's leftovers are fixed at their source;
    # ALLOWED_LATIN and EXPECTED_STATUS above are the only exceptions, each with its reason).
    assert not sweep.findings, (f"{label}: {len(sweep.findings)} findings on {len(sweep.visited)} pages "
                                f"({report.relative_to(artifacts.parent.parent)}):\n" + "\n".join(sweep.findings))
