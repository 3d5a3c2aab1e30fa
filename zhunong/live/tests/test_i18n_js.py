"""The live room in English: its scripts' catalogue (djangojs) and the websocket's own words.

The catalogue itself (no empty or fuzzy entry, placeholders kept, the .mo compiled) is checked with every
other catalogue in zhunong/core/tests/test_i18n_complete.py. Here: no Chinese text in room.js/console.js
escapes gettext (a regex scan of their string literals), every wrapped string is in the catalogue, the
pages load the catalogue in their own language, and the socket answers each connection in its language
while the frames it shares stay the same for everyone.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from zhunong.core.tests.test_i18n_complete import read_po
from zhunong.live import hub as hub_module
from zhunong.live import store
from zhunong.live.consumers import MAX_CHAT_CHARS, scope_language
from zhunong.testing import make_user

from .wsutil import closed_with, events_until, recv, reply_to, run, send, session_cookie

STATIC = Path(__file__).resolve().parents[1] / "static" / "live"
SCRIPTS = [STATIC / "room.js", STATIC / "console.js"]
DJANGOJS = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "djangojs.po"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
# A string literal that is the first argument of a gettext call (or the second, the plural, of ngettext).
FIRST_ARG = re.compile(r"\b(?:gettext|gettext_noop|ngettext|pgettext|npgettext)\(\s*$")
PLURAL_ARG = re.compile(r"\bngettext\(\s*$")


# --- the scripts ---------------------------------------------------------------------------------------

def string_literals(source: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each '…', "…" and `…` literal; comments are skipped. Regex literals are read
    as code, which is enough for these files (none of their regexes holds a quote)."""
    found = []
    i, n = 0, len(source)
    while i < n:
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            i = source.index("*/", i + 2) + 2
        elif source[i] in "'\"`":
            quote, j = source[i], i + 1
            while source[j] != quote:
                j += 2 if source[j] == "\\" else 1
            found.append((i, j + 1, source[i + 1:j]))
            i = j + 1
        else:
            i += 1
    return found


def translated_literals(source: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The strings wrapped in gettext calls, and (line, text) of every other literal holding CJK text."""
    wrapped, bare = [], []
    literals = string_literals(source)
    previous_was_first_arg = False
    for index, (start, _end, text) in enumerate(literals):
        before = source[:start]
        first = bool(FIRST_ARG.search(before))
        plural = (index > 0 and previous_was_first_arg and PLURAL_ARG.search(source[:literals[index - 1][0]])
                  and re.fullmatch(r"\s*,\s*", source[literals[index - 1][1]:start]))
        if first or plural:
            wrapped.append(ast.literal_eval(f'"{text}"') if '"' not in text else text)
        elif CJK.search(text):
            bare.append((before.count("\n") + 1, text))
        previous_was_first_arg = first
    return wrapped, bare


def test_the_scanner_tells_wrapped_from_bare_strings():
    wrapped, bare = translated_literals(
        'a = gettext("讲解"); b = ngettext("%(n)s 条", "%(n)s 条", n); c = "已抢光"; // 注释 "不算"\n'
        "d = `秒杀`; e = 'ok'; /* \"也不算\" */ f = fmt(gettext('库存'), {});")
    assert wrapped == ["讲解", "%(n)s 条", "%(n)s 条", "库存"]
    assert bare == [(1, "已抢光"), (2, "秒杀")]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_chinese_string_outside_gettext(script: Path):
    """Every Chinese text the room shows goes through the catalogue (an English page must not show it)."""
    _wrapped, bare = translated_literals(script.read_text(encoding="utf-8"))
    assert not bare, f"{script.name}: wrap these in gettext(...) and run makemessages -d djangojs:\n" + "\n".join(
        f"line {line}: {text!r}" for line, text in bare)


def test_every_wrapped_string_is_in_the_catalogue():
    """A string wrapped after the last makemessages run would silently stay Chinese on English pages."""
    msgids = {e.msgid for e in read_po(DJANGOJS) if e.msgid} | {
        e.msgid_plural for e in read_po(DJANGOJS) if e.msgid_plural}
    missing = sorted({text for script in SCRIPTS
                      for text in translated_literals(script.read_text(encoding="utf-8"))[0]} - msgids)
    assert not missing, ("run `cd zhunong && zhunong makemessages -d djangojs -l en ...` (flags in djangojs.po's "
                         f"header), translate, compilemessages. Missing: {missing}")


def test_scripts_work_without_the_catalogue():
    """room.js falls back to the Chinese source strings when the catalogue script did not load."""
    room = (STATIC / "room.js").read_text(encoding="utf-8")
    assert 'typeof window.gettext === "function" ? window.gettext : function (s) { return s; }' in room
    assert "typeof window.ngettext" in room and "typeof window.interpolate" in room
    assert "Room.i18n.gettext" in (STATIC / "console.js").read_text(encoding="utf-8")


# --- the catalogue and the pages -----------------------------------------------------------------------

def catalogue(client: Client, query: str = "") -> dict:
    response = client.get("/live/jsi18n/" + query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    text = response.content.decode()
    found = re.search(r"const newcatalog = (\{.*?\});", text, flags=re.S)
    return json.loads(found.group(1)) if found else {}  # an empty catalogue has no block at all


def test_catalogue_follows_the_page_language():
    english = catalogue(Client(), "?lang=en")
    assert english["讲解"] == "Present" and english["讲解中"] == "Presenting"
    assert english["%(n)s 秒后开抢"] == ["Starts in %(n)s second", "Starts in %(n)s seconds"]
    assert catalogue(Client(), "?lang=zh-hans") == {}
    # Without `lang` (or with one the site does not offer) the request's own language applies.
    assert catalogue(Client(HTTP_ACCEPT_LANGUAGE="en"))["已抢光"] == "Sold out"
    assert catalogue(Client(HTTP_ACCEPT_LANGUAGE="en"), "?lang=xx")["已抢光"] == "Sold out"
    assert catalogue(Client()) == {}


def script_sources(html: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', html)


@pytest.mark.django_db
def test_room_and_console_load_the_catalogue_before_their_scripts(world):
    room = world.live_room()
    for how in ("header", "cookie"):
        client = Client(HTTP_ACCEPT_LANGUAGE="en") if how == "header" else Client()
        if how == "cookie":
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        client.force_login(room.host.user)
        for path in (f"/live/{room.stream.pk}/", f"/live/{room.stream.pk}/console/"):
            sources = script_sources(client.get(path).content.decode())
            catalogue_at = sources.index("/live/jsi18n/?lang=en")
            assert catalogue_at < next(i for i, s in enumerate(sources) if s.endswith("live/room.js")), path
    sources = script_sources(Client().get(f"/live/{room.stream.pk}/").content.decode())
    assert "/live/jsi18n/?lang=zh-hans" in sources


# --- the websocket -------------------------------------------------------------------------------------

def test_connection_language_is_chosen_as_for_pages():
    def scope(cookie: str | None = None, accept: str | None = None) -> dict:
        headers = [(b"accept-language", accept.encode())] if accept else []
        return {"headers": headers, "cookies": {settings.LANGUAGE_COOKIE_NAME: cookie} if cookie else {}}

    assert scope_language(scope()) == "zh-hans"
    assert scope_language(scope(accept="en-US,en;q=0.9")) == "en"
    assert scope_language(scope(accept="zh-CN,zh;q=0.9,en;q=0.8")) == "zh-hans"
    assert scope_language(scope(accept="fr-FR,en;q=0.5")) == "en"
    assert scope_language(scope(accept="fr-FR")) == "zh-hans"
    assert scope_language(scope(cookie="en", accept="zh-CN")) == "en"
    assert scope_language(scope(cookie="zh-hans", accept="en")) == "zh-hans"
    assert scope_language(scope(cookie="klingon", accept="en")) == "en"
    # Without Channels' cookie middleware the Cookie header is read.
    assert scope_language({"headers": [(b"cookie", b"a=1; django_language=en")]}) == "en"



async def connect(stream_id: object, *, user=None, cookie: str | None = None,  # noqa: ANN001
                  accept: str | None = None) -> tuple[WebsocketCommunicator, dict]:
    """Connect as a browser would: session cookie, language cookie (the site's switch), Accept-Language."""
    from zhunong.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    cookies = []
    if user is not None:
        cookies.append("sessionid=" + await database_sync_to_async(session_cookie)(user))
    if cookie:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={cookie}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    comm = WebsocketCommunicator(application, f"/ws/rooms/{stream_id}/", headers=headers)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return comm, json.loads(await comm.receive_from(timeout=5))


@pytest.fixture(autouse=True)
def fresh_room_state():
    store.reset_memory_store()
    hub_module.reset_word_cache()


@run
async def _errors_in_each_language(room, alice):  # noqa: ANN001, ANN202
    chinese, welcome_zh = await connect(room.stream.pk)
    by_header, welcome_en = await connect(room.stream.pk, accept="en-US,en;q=0.9")
    by_cookie, _ = await connect(room.stream.pk, cookie="en", accept="zh-CN")
    english_user, _ = await connect(room.stream.pk, user=alice, accept="en")
    # The welcome is per connection: the gifts on offer are named in its language.
    assert welcome_zh["stream"]["gifts"] == [{"kind": "flower", "label": "送花"}]
    assert welcome_en["stream"]["gifts"] == [{"kind": "flower", "label": "flowers"}]
    for comm in (chinese, by_header, by_cookie):
        await send(comm, {"t": "chat", "text": "你好", "ref": "r1"})
    assert await recv(chinese) == {"t": "error", "code": "login_required", "message": "请先登录", "ref": "r1"}
    for comm in (by_header, by_cookie):
        assert await recv(comm) == {"t": "error", "code": "login_required", "message": "Please log in first",
                                    "ref": "r1"}
    # Messages with numbers, and bad frames.
    await send(english_user, {"t": "chat", "text": "长" * (MAX_CHAT_CHARS + 1), "ref": "long"})
    assert (await reply_to(english_user, "long"))["message"] == f"At most {MAX_CHAT_CHARS} characters"
    await english_user.send_to(text_data="{not json")
    assert (await recv(english_user))["message"] == "The message is not valid JSON"
    await send(english_user, {"t": "warp"})
    assert (await recv(english_user))["message"] == "Unknown message type: warp"
    await send(chinese, {"t": "warp"})
    assert (await recv(chinese))["message"] == "未知消息类型：warp"
    # A service's error (English for API clients) reaches a person in their language.
    await send(english_user, {"t": "gift", "kind": "tiara", "ref": "g"})
    assert (await reply_to(english_user, "g"))["code"] == "invalid"  # no friendly text: the service's stays
    await send(english_user, {"t": "pin", "product_id": room.products[0].pk, "ref": "p"})
    assert (await reply_to(english_user, "p"))["message"] == "Only the host and operators can do this"
    # The frames the room shares are the same for everyone (codes and data, no words of ours).
    await send(english_user, {"t": "chat", "text": "hello 你好", "ref": "c"})
    assert (await reply_to(english_user, "c"))["t"] == "ack"
    seen_zh = [e for e in await events_until(chinese, lambda e: e.get("t") == "chat") if e.get("t") == "chat"]
    seen_en = [e for e in await events_until(by_header, lambda e: e.get("t") == "chat") if e.get("t") == "chat"]
    assert seen_zh == seen_en
    for comm in (chinese, by_header, by_cookie, english_user):
        await comm.disconnect()


@pytest.mark.django_db(transaction=True)
def test_errors_come_in_the_connection_language_chinese_by_default(room_i18n):
    _errors_in_each_language(room_i18n, make_user())


@run
async def _connect_errors_and_ban(room, bob):  # noqa: ANN001, ANN202
    comm, frame = await connect(999999, accept="en")
    assert frame == {"t": "error", "code": "stream_not_found", "message": "There is no such stream"}
    assert await closed_with(comm) == 4404
    comm, frame = await connect(999999)
    assert frame["message"] == "没有这场直播"
    await closed_with(comm)
    # The hub's own per-connection words: bob, reading in English, is banned by the host.
    b, _ = await connect(room.stream.pk, user=bob, cookie="en")
    h, _ = await connect(room.stream.pk, user=room.host.user)
    await send(h, {"t": "ban", "user_id": bob.pk, "reason": "spam", "ref": "ban"})
    assert (await reply_to(h, "ban"))["t"] == "ack"
    assert await recv(b, timeout=3) == {"t": "error", "code": "banned",
                                        "message": "You have been removed from this live room"}
    assert await closed_with(b) == 4403
    again, frame = await connect(room.stream.pk, user=bob)  # no language asked for: Chinese
    assert frame == {"t": "error", "code": "banned", "message": "你已被移出直播间"}
    await closed_with(again)
    await h.disconnect()


@pytest.mark.django_db(transaction=True)
def test_connect_errors_and_the_hubs_messages_are_translated(room_i18n):
    _connect_errors_and_ban(room_i18n, make_user())


def test_send_buffer_words_its_close_in_its_language():
    from zhunong.live.consumers import HARD_BUFFER, SendBuffer

    for language, message in (("en", "The connection is too slow; please reconnect"), ("zh-hans", "网络太慢，请重新连接")):
        buf = SendBuffer(language)
        for i in range(HARD_BUFFER + 1):
            buf.push(f"i{i}", important=True)
        assert json.loads(buf.items[0]) == {"t": "error", "code": "too_slow", "message": message}


@pytest.fixture
def room_i18n(world):  # noqa: ANN001, ANN201
    return world.live_room()


def test_shelf_frames_carry_units_in_the_project_language_whatever_the_request(world):  # noqa: ANN001
    """Shelf and pin frames are shared by every viewer: an English request that changes the shelf must not
    send English unit labels to the Chinese viewers (each client translates the label itself)."""
    from django.utils import translation

    from zhunong.live import payloads

    product = world.listed_product(stock=20)  # sold by the 斤
    with translation.override("en"):
        assert payloads.product(product)["unit"] == "斤"
