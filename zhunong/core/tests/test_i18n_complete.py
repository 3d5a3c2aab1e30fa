"""The English catalogue is complete and compiled, and key pages show their fixed UI text in English.

The catalogue checks read the committed .po/.mo files directly (no gettext tools needed), so a string
added without a translation, or a `#, fuzzy` guess left behind by makemessages, fails here instead of
showing Chinese on an English page. They run for every catalogue: `django` (Python and templates) and
`djangojs` (the live room's scripts; zhunong/live/tests/test_i18n_js.py checks the scripts themselves). Page checks test chosen translated strings: product names, places
and people are Chinese data on purpose and stay as entered.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.testing import make_user, unique
from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401 - autouse, as in orders

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


# --- the catalogues ------------------------------------------------------------------------------------

@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file as makemessages writes it (enough of the format for these checks)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#~"):
            entry.obsolete = True
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            entry.msgctxt, target = ast.literal_eval(line[8:]), ("msgctxt", 0)
        elif line.startswith("msgid_plural "):
            entry.msgid_plural, target = ast.literal_eval(line[13:]), ("msgid_plural", 0)
        elif line.startswith("msgid "):
            entry.msgid, target = ast.literal_eval(line[6:]), ("msgid", 0)
        elif line.startswith("msgstr["):
            index = int(line[7:line.index("]")])
            entry.msgstr[index], target = ast.literal_eval(line[line.index("]") + 2:]), ("msgstr", index)
        elif line.startswith("msgstr "):
            entry.msgstr[0], target = ast.literal_eval(line[7:]), ("msgstr", 0)
        elif line.startswith('"') and target is not None:
            part = ast.literal_eval(line)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += part
            else:
                setattr(entry, target[0], (getattr(entry, target[0]) or "") + part)
    return [e for e in entries if e.msgid or e.msgstr]


def catalogues() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def test_english_catalogue_exists():
    assert LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po" in catalogues()
    assert LOCALE_DIR / "en" / "LC_MESSAGES" / "djangojs.po" in catalogues()


@pytest.mark.parametrize("po", catalogues(), ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_every_string_is_translated(po: Path):
    """No empty msgstr, no `#, fuzzy` guess, no obsolete `#~` leftovers (makemessages runs --no-obsolete)."""
    entries = read_po(po)
    header = [e for e in entries if e.msgid == "" and not e.obsolete]
    assert header and "fuzzy" not in header[0].flags, "the catalogue header is marked fuzzy"
    problems = []
    for e in entries:
        if e.msgid == "":
            continue
        if e.obsolete:
            problems.append(f"line {e.line}: obsolete entry {e.msgid!r}")
        elif "fuzzy" in e.flags:
            problems.append(f"line {e.line}: fuzzy {e.msgid!r}")
        elif not e.msgstr or any(not text.strip() for text in e.msgstr.values()):
            problems.append(f"line {e.line}: untranslated {e.msgid!r}")
        elif e.msgid_plural is not None and len(e.msgstr) < 2:
            problems.append(f"line {e.line}: plural {e.msgid!r} needs msgstr[0] and msgstr[1]")
    assert not problems, (f"{po}: translate these (then run `zhunong compilemessages -l en`):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("po", catalogues(), ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_translations_keep_placeholders(po: Path):
    """%(name)s, %s and {x} of the source string are all in the translation, and nothing else is."""
    problems = []
    for e in read_po(po):
        if not e.msgid or e.obsolete:
            continue
        for index, text in e.msgstr.items():
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            if sorted(set(PLACEHOLDER.findall(source))) != sorted(set(PLACEHOLDER.findall(text))):
                problems.append(f"line {e.line}: {e.msgid!r} → {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po", catalogues(), ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_compiled_catalogue_matches_po(po: Path):
    """The committed .mo is the .po compiled (Django reads only the .mo): run compilemessages after editing."""
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `zhunong compilemessages -l en`"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in read_po(po):
        if not e.msgid or e.obsolete or "fuzzy" in e.flags:
            continue
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            got = compiled.gettext(key)
            if got != e.msgstr.get(0):
                stale.append(e.msgid)
        elif compiled.ngettext(key, e.msgid_plural, 2) != e.msgstr.get(1):
            stale.append(e.msgid)
    assert not stale, f"{mo} is older than {po.name}: run `zhunong compilemessages -l en`. Differs: {stale[:10]}"


@pytest.mark.parametrize("po", sorted(LOCALE_DIR.glob("en/LC_MESSAGES/*.po")), ids=lambda p: p.name)
def test_translations_are_not_left_in_chinese(po: Path):
    """The English catalogues translate Chinese sources; a msgstr left in Chinese is not a translation.

    Example words in quotes stay (e.g. a search hint naming 蓝莓), so only entries that are mostly CJK fail."""
    problems = []
    for e in read_po(po):
        if not e.msgid or e.obsolete:
            continue
        for text in e.msgstr.values():
            letters = [c for c in text if c.isalpha()]
            if letters and sum(bool(CJK.match(c)) for c in letters) > len(letters) / 2:
                problems.append(f"line {e.line}: {e.msgid!r} → {text!r}")
    assert not problems, "\n".join(problems)


def test_gettext_is_not_imported_under_other_names():
    """makemessages (xgettext) finds only `_`, gettext, gettext_lazy, ngettext, pgettext...: a string wrapped
    in an alias such as `_lazy` is never extracted, so it silently stays Chinese on English pages."""
    package = Path(__file__).resolve().parents[2]
    aliased = []
    for path in sorted(package.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                aliased += [f"{path.relative_to(package)}: {a.name} as {a.asname}" for a in node.names
                            if a.asname not in (None, "_")]
    assert not aliased, "import gettext functions by their own names (or gettext as _):\n" + "\n".join(aliased)


# --- pages in English ----------------------------------------------------------------------------------

def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def english(user=None, *, how: str = "header") -> Client:  # noqa: ANN001
    """A client that asks for English, by Accept-Language or by the language cookie (the switch's)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en") if how == "header" else Client()
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def assert_english(html: str, *, shows: list[str], not_shows: list[str]) -> None:
    text = visible_text(html)
    missing = [s for s in shows if s not in html and s not in text]
    left = [s for s in not_shows if s in html]
    assert not missing, f"English text missing: {missing}"
    assert not left, f"Chinese UI text left on an English page: {left}"


def cjk_in(fragments: list[str]) -> list[str]:
    return [f for f in fragments if CJK.search(visible_text(f))]


def tags(html: str, name: str) -> list[str]:
    return re.findall(rf"<{name}\b[^>]*>.*?</{name}>", html, flags=re.S)


def _order_without_address(buyer, product, *, paid: bool = False):  # noqa: ANN001, ANN202
    from zhunong.orders import services as orders

    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                idempotency_key=unique("i18n-"))
    if paid:
        # The services pay without an address (only the sandbox page waits for one), so the packing list
        # can hold an order whose buyer has not given it yet.
        orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
        order.refresh_from_db()
    return order


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["header", "cookie"])
def test_storefront_home_and_header_in_english(world, how):
    world.listed_product(name="洋河蓝莓")
    client = english(make_user(roles.BUYER), how=how)
    # The home page is the same for everyone (front cache); the header's personal part comes from /me/nav/.
    html = client.get("/").content.decode() + client.get("/me/nav/?next=/").content.decode()
    assert_english(html, shows=["My orders", "Search"], not_shows=["我的订单", "产地好物"])
    assert "洋河蓝莓" in html  # data stays as entered


@pytest.mark.django_db
def test_product_page_flash_sale_countdown_in_english(world):
    from zhunong.orders import services as orders

    product = world.listed_product(name="洋河蓝莓", stock=50)
    live_room = world.live_room([product], kind="county_head", pin=product)
    stream, host_user = live_room.stream, live_room.host_user
    orders.start_flash_sale(actor=host_user, stream=stream, product=product, quantity=5, sale_price="29.90",
                            per_buyer_limit=1, countdown_seconds=60, duration_minutes=5)
    html = english(make_user(roles.BUYER)).get(f"/p/{product.pk}/?stream={stream.pk}").content.decode()
    assert_english(html, shows=["The sale starts in", "Starting soon", "Limit 1 per buyer"],
                   not_shows=["秒后开抢", "即将开抢", "每人限购"])
    assert "洋河蓝莓" in html


@pytest.mark.django_db
def test_order_page_address_form_in_english(world):
    buyer = make_user(roles.BUYER)
    order = _order_without_address(buyer, world.listed_product(stock=20))
    client = english(buyer, how="cookie")
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert_english(html, shows=["Delivery address", "Mobile number", "Full address", "Save delivery address",
                                "Give a delivery address before paying.", "11-digit mobile number"],
                   not_shows=["手机号码", "详细地址", "保存收货地址", "请先填写收货地址", "11 位手机号"])
    form = re.search(r'<form[^>]*class="address-form".*?</form>', html, flags=re.S).group(0)
    assert not cjk_in(tags(form, "label") + tags(form, "button")), "the address form's labels are not English"
    # A refused phone number comes back with the form, in English.
    refused = client.post(f"/orders/{order.pk}/shipping-address/", {
        "ship_to_name": "王小明", "ship_to_phone": "12345", "ship_to_address": "山东省青岛市市南区香港中路 1 号"})
    assert_english(refused.content.decode(), shows=["Enter a valid mobile number"], not_shows=["请填写正确的手机号码"])


@pytest.mark.django_db
def test_buy_box_messages_in_english(world):
    product = world.listed_product(stock=5)
    client = english(make_user(roles.BUYER))
    response = client.post("/orders/buy/", {"product_id": product.pk, "quantity": "lots"}, follow=True)
    # Back on the (shared) product page, the message is shown by the header's /me/nav/ fragment.
    html = response.content.decode() + client.get("/me/nav/?next=/").content.decode()
    assert_english(html, shows=["Enter a valid quantity."], not_shows=["请填写正确的数量"])


@pytest.mark.django_db
def test_live_room_and_console_in_english(world):
    product = world.listed_product(name="洋河蓝莓", stock=50)
    live_room = world.live_room([product], kind="county_head", pin=product)
    stream, host_user = live_room.stream, live_room.host_user
    room = english().get(f"/live/{stream.pk}/").content.decode()
    assert_english(room, shows=["Product shelf", "Presenting", "watching", "Log in to chat, like and buy"],
                   not_shows=["小黄车", "讲解中", "人在看", "登录后发弹幕"])
    assert not cjk_in(tags(room, "h2")), "the room's headings are not English"
    assert "洋河蓝莓" in room and "蓝莓专场" in room  # product and stream title stay as entered
    console = english(host_user, how="cookie").get(f"/live/{stream.pk}/console/").content.decode()
    assert_english(console, shows=["Host console", "Start flash sale", "Flash-sale price (yuan)", "Room management"],
                   not_shows=["主播控制台", "开始秒杀", "秒杀价（元）", "直播间管理"])
    assert not cjk_in(tags(console, "label") + tags(console, "h2")), "the console's labels are not English"


@pytest.mark.django_db
def test_packing_list_and_slip_in_english(world):
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    order = _order_without_address(make_user(roles.BUYER), world.listed_product(stock=20), paid=True)
    client = english(manager)
    html = client.get("/fulfilment/").content.decode()
    assert_english(html, shows=["The buyer has not given a delivery address", "Drop shipping"],
                   not_shows=["买家未填写收货地址", "一件代发", "待发货"])
    assert not cjk_in(tags(html, "th")), "the packing list's column headings are not English"
    slip = client.get(f"/fulfilment/shipments/{order.shipments.get().pk}/slip/").content.decode()
    assert_english(slip, shows=["The buyer has not given a delivery address"], not_shows=["买家未填写收货地址"])


@pytest.mark.django_db
def test_order_aftersales_page_in_english(world):
    buyer = make_user(roles.BUYER)
    order = _order_without_address(buyer, world.listed_product(stock=20), paid=True)
    html = english(buyer).get(f"/fulfilment/orders/{order.pk}/").content.decode()
    assert_english(html, shows=["Delivery and after-sales", "Order details", "Request a refund or return",
                                "Complain to the county"],
                   not_shows=["物流与售后", "订单详情", "申请退款/退货", "向县里投诉"])


@pytest.mark.django_db
def test_trace_chain_in_english(world):
    from zhunong.quality import services as quality

    world.inspect()
    quality.record_transformation(actor=world.operator, inputs=[quality.InputUse(batch=world.batch, quantity="500")],
                                  output_name="蓝莓果酱", output_lot="GJ-01", output_quantity="300",
                                  output_unit="jin", processed_at=timezone.now() - dt.timedelta(hours=3))
    quality.record_packing(actor=world.operator, batch=world.batch, lot="GJ-01", cases=4, packs_per_case=12,
                           pack_unit="box", packed_at=timezone.now() - dt.timedelta(hours=2))
    quality.record_shipment(batch=world.batch, shipped_at=timezone.now() - dt.timedelta(hours=1), carrier="邮政EMS",
                            region=world.village, quantity="1", unit="box")
    html = english(how="cookie").get(f"/t/{world.batch.trace_code}/").content.decode()
    assert_english(html, shows=["Processing: raw material", "(lot GJ-01)", "Packing: finished goods of lot GJ-01",
                                "packed into 4 cases", "carried by 邮政EMS", "Harvest:"],
                   not_shows=["加工：", "装箱", "承运", "采收："])
    assert "蓝莓果酱" in html  # the product made is data


@pytest.mark.django_db
def test_chinese_is_still_the_default(world):
    buyer = make_user(roles.BUYER)
    order = _order_without_address(buyer, world.listed_product(stock=20))
    client = Client()
    client.force_login(buyer)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "保存收货地址" in html and "Save delivery address" not in html
