"""The room websocket, `/ws/rooms/<stream_id>/` (protocol: docs/live-protocol.md).

The consumer parses and authorises frames, then hands work to the room's hub (chat, likes) or to a
service (host actions, reports, gifts). It never joins a channel-layer group itself: the hub holds
the room's one subscription per process and pushes frames into this connection's bounded buffer;
the connection's writer task sends them, so a slow client only slows itself.

Language: replies meant for this connection alone (ack, error, notice) are worded in the connection's
language, chosen at connect as pages choose theirs (the `django_language` cookie, then Accept-Language,
then Chinese). Frames the hub shares between connections carry no such text: the client words them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.cookie import parse_cookie
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.utils.translation.trans_real import language_code_re, parse_accept_lang_header

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import DomainError, ValidationFailed
from zhunong.core.text import has_control_chars

from . import chat, moderation, selectors, streams
from .filtering import filter_text
from .hub import RoomHub, db, dumps, get_hub, say
from .models import Gift, Stream
from .store import AUTO_MUTE_SECONDS, RATE_MAX, RATE_WINDOW, get_store

log = logging.getLogger(__name__)

MAX_FRAME_CHARS = 2000
MAX_CHAT_CHARS = 200
MAX_LIKES_PER_FRAME = 20
LIKES_PER_SECOND = 20.0
FRAMES_PER_SECOND = 10.0
FRAME_BURST = 20.0
MAX_BAD_FRAMES = 20
MAX_FLOOD_STRIKES = 50
# Send buffer, in frames: beyond SOFT a slow client misses chat-only batches, beyond HARD it is closed.
SOFT_BUFFER = 16
HARD_BUFFER = 64

CLOSE_BAD_REQUEST = 4400
CLOSE_BANNED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_HEARTBEAT = 4408
CLOSE_ENDED = 4410
CLOSE_TOO_SLOW = 4429
CLOSE_SERVER_ERROR = 1011

_VID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A lone UTF-16 surrogate (from a `\ud800` escape) cannot be encoded as UTF-8: not to the database, not back
# to any client. A frame holding one is refused like any other malformed frame.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Ids and counts are 64-bit integers in the database; a bigger number is refused before any query.
MAX_INT = 2**63 - 1

VIEWER_TYPES = {"hb", "chat", "like", "click", "report", "gift"}
HOST_TYPES = {"pin", "unpin", "announce", "mute", "unmute", "ban", "unban", "delete", "slow_mode",
              "established_only", "end"}

# Services' errors carry an English message for API clients; a person in the room gets these instead, in
# their language. Codes not listed here (e.g. `invalid`, whose message names the field) keep the service's.
FRIENDLY_ERRORS = {
    "login_required": gettext_lazy("请先登录"),
    "not_moderator": gettext_lazy("只有主播和运营可以这样做"),
    "stream_not_found": gettext_lazy("没有这场直播"),
    "stream_not_live": gettext_lazy("直播不在进行中"),
    "stream_ended": gettext_lazy("直播已结束"),
    "muted": gettext_lazy("你已被禁言"),
    "banned": gettext_lazy("你已被移出直播间"),
    "message_not_found": gettext_lazy("本直播间没有这条弹幕"),
    "product_not_on_shelf": gettext_lazy("商品不在本场货架上"),
    "product_not_listed": gettext_lazy("只有本县已上架的商品才能在直播中销售"),
    "host_not_verified": gettext_lazy("主播尚未通过实名认证，不能开播"),
    "gift_refused_public_servant": gettext_lazy("本场主播为公职人员，不收礼物打赏；此次赠送已被记录"),
    "too_many_gifts": gettext_lazy("送礼太频繁，请稍后再试"),
    "too_many_reports": gettext_lazy("举报太频繁，请稍后再试"),
}


def _env_cap() -> int:
    raw = os.environ.get("ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS", "").strip()
    if not raw:
        return 8
    if not raw.isdigit():
        raise ImproperlyConfigured(f"ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS must be a whole number, 0 or more (got {raw!r}).")
    return int(raw)


_ENV_CAP = _env_cap()


def connections_per_address() -> int:
    """The per-address cap of a room (docs/deploy.md "Viewer connections per address"): the Django setting
    ROOM_CONNECTIONS_PER_ADDRESS if set, else ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS, else 8; 0 is no cap."""
    value = getattr(settings, "ROOM_CONNECTIONS_PER_ADDRESS", None)
    return max(0, int(value)) if value is not None else _ENV_CAP


def client_address(scope: dict[str, Any]) -> str:
    """The client's address, by the rule of the sign-in throttles and the media callbacks
    (`accounts.throttle.client_ip`): the server's peer address, or, behind `TRUSTED_PROXY_COUNT` reverse
    proxies, the address the outermost trusted proxy saw (counted from the right of X-Forwarded-For)."""
    client = scope.get("client")
    remote = str(client[0]) if client else ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = b",".join(v for k, v in scope.get("headers") or [] if k.lower() == b"x-forwarded-for")
    hops = [h.strip() for h in forwarded.decode("latin1").split(",") if h.strip()]
    return hops[-proxies][:45] if len(hops) >= proxies else remote


def address_key(scope: dict[str, Any]) -> str:
    """The client's address as the cap counts it ("" if unknown: no cap then): an IPv6 client by its /64,
    since one host has the whole /64 to pick addresses from."""
    try:
        ip = ipaddress.ip_address(client_address(scope))
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return "net:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return f"ip:{ip}"


def scope_language(scope: dict[str, Any]) -> str:
    """The connection's language, chosen as LocaleMiddleware chooses a page's: the language cookie (the
    site's language switch sets it), then the browser's Accept-Language, then the site's default."""
    headers = dict(scope.get("headers") or [])
    cookies = scope.get("cookies")
    if cookies is None:  # without Channels' CookieMiddleware
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        with contextlib.suppress(LookupError):
            return translation.get_supported_language_variant(chosen)
    for code, _quality in parse_accept_lang_header(headers.get(b"accept-language", b"").decode("latin1")):
        if code == "*":
            break
        if language_code_re.search(code):
            with contextlib.suppress(LookupError):
                return translation.get_supported_language_variant(code)
    return settings.LANGUAGE_CODE


class SendBuffer:
    """A connection's bounded queue of encoded frames (shared strings: each batch is encoded once).

    Past SOFT_BUFFER frames a slow client misses chat-only batches; at HARD_BUFFER it is closed with
    4429 (it reconnects and gets a fresh snapshot) rather than slowing the room or growing memory.
    An int in the queue is a close code: the writer closes the socket when it gets there.
    """

    def __init__(self, language: str = settings.LANGUAGE_CODE) -> None:
        self.language = language
        self.items: deque[str | int] = deque()
        self.wake = asyncio.Event()
        self.closing: int | None = None
        self.skipped = 0

    def push(self, frame: str, *, important: bool) -> None:
        if self.closing is not None:
            return
        n = len(self.items)
        if n >= HARD_BUFFER:
            self.items.clear()
            self.items.append(dumps({"t": "error", "code": "too_slow",
                                     "message": say(self, gettext_lazy("网络太慢，请重新连接"))}))
            self.close_after_flush(CLOSE_TOO_SLOW)
            return
        if n >= SOFT_BUFFER and not important:
            self.skipped += 1
            return
        self.items.append(frame)
        self.wake.set()

    def close_after_flush(self, code: int) -> None:
        if self.closing is not None:
            return
        self.closing = code
        self.items.append(code)
        self.wake.set()


class RoomConsumer(AsyncWebsocketConsumer):
    # No per-connection channel-layer channel: the hub is this process's one member of the room's group.
    channel_layer_alias = "__live_rooms_use_the_hub__"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Whatever ends the connection (a close, the server cancelling us, an error nobody caught), the
        # connection leaves its room and its writer task stops: nothing of it outlives the socket.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        hub = getattr(self, "hub", None)
        if hub is not None:
            self.hub = None
            hub.detach(self)
        writer = getattr(self, "writer", None)
        if writer is not None:
            self.writer = None
            writer.cancel()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' default dispatch hops to a thread to close stale DB connections on every frame;
        # this consumer touches the database only through database_sync_to_async, which does that itself.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connection --------------------------------------------------------------------------

    async def connect(self) -> None:
        self.hub: RoomHub | None = None
        self.writer: asyncio.Task | None = None
        self.language = scope_language(self.scope)
        self.out = SendBuffer(self.language)
        self.last_seen = time.monotonic()
        self.tokens = FRAME_BURST
        self.like_tokens = LIKES_PER_SECOND
        self.last_refill = time.monotonic()
        self.bad_frames = 0
        self.flood_strikes = 0
        self.user_id: int | None = None
        self.name = ""
        self.role = "anonymous"
        self.user = None
        self.viewer_key = ""
        await self.accept()
        self.writer = asyncio.create_task(self._write_loop())
        try:
            await self._join()
        except Exception:
            log.exception("room connect failed (%s)", self.scope.get("path"))
            self._cleanup_hub()
            self._fatal("server_error", gettext_lazy("服务器出错，请稍后重连"), CLOSE_SERVER_ERROR)

    def _cleanup_hub(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None:
            hub.detach(self)

    async def _join(self) -> None:
        raw_id = self.scope["url_route"]["kwargs"].get("stream_id", "")
        try:
            stream_id = int(raw_id)
            if not 0 < stream_id < 2**63:
                raise ValueError
        except (TypeError, ValueError):
            return self._fatal("stream_not_found", FRIENDLY_ERRORS["stream_not_found"], CLOSE_NOT_FOUND)
        hub = await get_hub(stream_id)
        if hub is None:
            return self._fatal("stream_not_found", FRIENDLY_ERRORS["stream_not_found"], CLOSE_NOT_FOUND)
        if hub.status in ("ended", "cancelled"):
            return self._fatal("stream_ended", FRIENDLY_ERRORS["stream_ended"], CLOSE_ENDED)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and user.is_active:
            self.user = user
            self.user_id = user.pk
            self.name = str(user)
            self.viewer_key = f"u:{user.pk}"
            if hub.info["host"]["user_id"] == user.pk:
                self.role = "host"
            elif await database_sync_to_async(policy.can)(user, "stream.moderate", hub.stream):
                self.role = "staff"
            else:
                self.role = "viewer"
            if self.user_id in hub.bans:
                return self._fatal("banned", FRIENDLY_ERRORS["banned"], CLOSE_BANNED)
        else:
            vid = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("vid", [""])[0]
            # A browser keeps its id across reconnects, so a reconnect is not a new viewer; without one,
            # each connection is its own viewer.
            ident = vid if _VID.match(vid) else "conn-" + secrets.token_hex(8)
            self.viewer_key = "a:" + hashlib.sha256(ident.encode()).hexdigest()[:24]
        # The per-address cap (ZHUNONG_ROOM_CONNECTIONS_PER_ADDRESS; docs/decisions/0009): anonymous
        # connections count against their address, a logged-in user's against their account (so viewers
        # sharing one address through NAT can still watch by logging in); the host and staff are not capped.
        cap = connections_per_address()
        if self.role in ("host", "staff"):
            limit_key = ""
        elif self.user_id is not None:
            limit_key = f"user:{self.user_id}"
        else:
            limit_key = address_key(self.scope)
        if not hub.attach(self, limit_key=limit_key, cap=cap):
            message = (gettext_lazy("你在本直播间打开的连接过多，请关闭其他窗口") if self.user_id is not None else
                       gettext_lazy("同一网络在本直播间的连接过多；登录后观看不受此限制"))
            log.info("room %s: refused a connection over the cap (%s)", stream_id, limit_key.split(":")[0])
            return self._fatal("too_many_connections", message, CLOSE_TOO_SLOW)
        self.hub = hub

    async def disconnect(self, code: int) -> None:
        self._cleanup()

    def _fatal(self, code: str, message: Any, close_code: int) -> None:
        self.push(dumps({"t": "error", "code": code, "message": say(self, message)}), important=True)
        self.close_after_flush(close_code)

    # --- sending (called by the hub) ---------------------------------------------------------

    def push(self, frame: str, *, important: bool) -> None:
        self.out.push(frame, important=important)

    def close_after_flush(self, code: int) -> None:
        self.out.close_after_flush(code)

    @property
    def closing(self) -> int | None:
        return self.out.closing

    async def _write_loop(self) -> None:
        # Straight to the server's send: the session middleware's send wrapper only matters for HTTP
        # responses, and on a busy room its per-frame checks cost more than the send itself.
        send = getattr(getattr(self.base_send, "__self__", None), "real_send", None) or self.base_send
        items = self.out.items
        try:
            while True:
                await self.out.wake.wait()
                self.out.wake.clear()
                while items:
                    item = items.popleft()
                    if isinstance(item, int):
                        await self.close(code=item)
                        return
                    await send({"type": "websocket.send", "text": item})
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer went away mid-send: close, so the server tells us (disconnect cleans up)
            self.out.closing = self.out.closing or CLOSE_SERVER_ERROR
            self.out.items.clear()
            with contextlib.suppress(Exception):
                await self.close(code=CLOSE_SERVER_ERROR)

    def _reply(self, obj: dict[str, Any]) -> None:
        self.push(dumps(obj), important=True)

    def _error(self, code: str, message: Any, ref: Any = None, *, params: dict[str, Any] | None = None,
               **extra: Any) -> None:
        """An error for this connection alone; `message` (gettext_lazy, `params` filled in) in its language."""
        body = {"t": "error", "code": code, "message": say(self, message, params), **extra}
        if ref is not None:
            body["ref"] = ref
        self._reply(body)

    # --- receiving ---------------------------------------------------------------------------

    def _domain_error(self, exc: DomainError, ref: Any, *, details: bool = False) -> None:
        extra = {"details": exc.details} if details and exc.details else {}
        self._error(exc.code, FRIENDLY_ERRORS.get(exc.code, exc.message), ref, **extra)

    def _refill(self, now: float) -> None:
        elapsed = now - self.last_refill
        self.last_refill = now
        self.tokens = min(FRAME_BURST, self.tokens + elapsed * FRAMES_PER_SECOND)
        self.like_tokens = min(LIKES_PER_SECOND, self.like_tokens + elapsed * LIKES_PER_SECOND)

    def _bad(self, code: str, message: Any, params: dict[str, Any] | None = None, ref: Any = None) -> None:
        self.bad_frames += 1
        self._error(code, message, ref, params=params)
        if self.bad_frames > MAX_BAD_FRAMES:
            self._error("too_many_bad_frames", gettext_lazy("错误消息过多，连接已关闭"))
            self.close_after_flush(CLOSE_BAD_REQUEST)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """One frame from the client. Whatever goes wrong while handling it is answered with an `error`
        frame (`server_error`, with the frame's `ref`) and logged; the connection stays up."""
        if self.hub is None or self.closing is not None:
            return
        self._ref = None
        try:
            await self._receive(text_data, bytes_data)
        except Exception:
            log.exception("room %s: frame from user %s failed", getattr(self.hub, "stream_id", "?"), self.user_id)
            self._error("server_error", gettext_lazy("服务器出错，请重试"), self._ref)

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        now = time.monotonic()
        self.last_seen = now
        self._refill(now)
        if self.tokens < 1:
            self.flood_strikes += 1
            if self.flood_strikes == 1 or self.flood_strikes % 10 == 0:
                self._error("flooding", gettext_lazy("发送太频繁，消息被丢弃"))
            if self.flood_strikes > MAX_FLOOD_STRIKES:
                self.close_after_flush(CLOSE_TOO_SLOW)
            return
        self.tokens -= 1
        if text_data is None:
            return self._bad("bad_frame", gettext_lazy("只接受 JSON 文本帧"))
        if len(text_data) > MAX_FRAME_CHARS:
            return self._bad("too_large", gettext_lazy("消息过长（最多 %(max)s 字符）"), {"max": MAX_FRAME_CHARS})
        try:
            msg = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            return self._bad("bad_json", gettext_lazy("消息不是合法的 JSON"))
        if _SURROGATE.search(text_data) or ("\\u" in text_data and _SURROGATE.search(dumps(msg))):
            return self._bad("bad_frame", gettext_lazy("消息包含无法编码的字符"))
        ref = msg.get("ref") if isinstance(msg, dict) else None
        if not (ref is None or (isinstance(ref, str) and len(ref) <= 40) or
                (isinstance(ref, int) and not isinstance(ref, bool) and -MAX_INT <= ref <= MAX_INT)):
            ref = None
        self._ref = ref
        if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
            return self._bad("bad_frame", gettext_lazy("消息须为带 t 字段的 JSON 对象"), ref=ref)
        kind = msg["t"]
        if kind == "hb":
            return self._reply({"t": "hb", "viewers": self.hub.viewers})
        if kind in VIEWER_TYPES:
            return await getattr(self, f"on_{kind}")(msg, ref)
        if kind in HOST_TYPES:
            if self.role not in ("host", "staff"):
                return self._error("not_moderator", FRIENDLY_ERRORS["not_moderator"], ref)
            return await self.on_host_action(kind, msg, ref)
        return self._bad("unknown_type", gettext_lazy("未知消息类型：%(type)s"), {"type": kind[:30]}, ref=ref)

    def _login_required(self, ref: Any) -> bool:
        if self.user_id is None:
            self._error("login_required", FRIENDLY_ERRORS["login_required"], ref)
            return True
        return False

    async def on_chat(self, msg: dict[str, Any], ref: Any) -> None:
        hub = self.hub
        if self._login_required(ref):
            return
        if hub.status != "live":
            return self._error("stream_not_live", gettext_lazy("直播尚未开始"), ref)
        text = msg.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._error("invalid", gettext_lazy("请输入内容"), ref)
        text = text.strip()
        if len(text) > MAX_CHAT_CHARS:
            return self._error("too_long", gettext_lazy("最多 %(max)s 字"), ref, params={"max": MAX_CHAT_CHARS})
        if has_control_chars(text) or "\n" in text or "\r" in text:
            return self._error("invalid", gettext_lazy("内容包含控制字符"), ref)
        now = time.time()
        if self.role == "viewer":
            until = hub.muted_until(self.user_id, now)
            if until:
                return self._error("muted", FRIENDLY_ERRORS["muted"], ref, until=_iso(until))
            if hub.established_minutes:
                age = (timezone.now() - self.user.date_joined).total_seconds() / 60
                if age < hub.established_minutes:
                    return self._error("account_too_new", ngettext_lazy(
                        "本直播间仅限注册满 %(n)s 分钟的用户发言", "本直播间仅限注册满 %(n)s 分钟的用户发言", "n"),
                        ref, params={"n": hub.established_minutes})
            gate = await get_store().chat_gate(hub.stream_id, self.user_id, now, hub.slow_mode)
            if not gate.ok:
                if gate.newly_muted:
                    self._reply({"t": "notice", "code": "rate_limited", "until": _iso(gate.until),
                                 "message": say(self, gettext_lazy(
                                     "发言太快（%(window)s 秒内最多 %(max)s 条），禁言 %(mute)s 秒"),
                                     {"window": f"{RATE_WINDOW:g}", "max": RATE_MAX, "mute": f"{AUTO_MUTE_SECONDS:g}"})})
                    asyncio.create_task(self._log_auto_mute())
                messages = {"muted": FRIENDLY_ERRORS["muted"], "slow_mode": gettext_lazy("慢速模式：请稍后再发"),
                            "rate_limited": gettext_lazy("发言太快，已被暂时禁言")}
                return self._error(gate.code, messages.get(gate.code, gate.code), ref, until=_iso(gate.until))
        filtered = filter_text(text, hub.automaton)
        if not filtered.text.strip():
            return self._error("empty_after_filter", gettext_lazy("链接已被移除，消息为空"), ref)
        hub.submit_chat(self, ref, chat.ChatIn(
            user_id=self.user_id, user_name=self.name, text=filtered.text, original=text,
            is_host=self.role == "host", blocked=filtered.blocked, hits=filtered.hits, at=timezone.now(),
        ), self.role)

    async def _log_auto_mute(self) -> None:
        with contextlib.suppress(Exception):
            await db(moderation.record_auto_mute)(
                stream_id=self.hub.stream_id if self.hub else 0, user_id=self.user_id, seconds=int(AUTO_MUTE_SECONDS),
                reason=f"rate limit: more than {RATE_MAX} messages in {RATE_WINDOW:g} s")

    async def on_like(self, msg: dict[str, Any], ref: Any) -> None:
        if self._login_required(ref):
            return
        if self.hub.status != "live":
            return self._error("stream_not_live", gettext_lazy("直播尚未开始"), ref)
        n = msg.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_LIKES_PER_FRAME:
            return self._error("invalid", gettext_lazy("n：1 到 %(max)s"), ref, params={"max": MAX_LIKES_PER_FRAME})
        accepted = min(n, int(self.like_tokens))
        if accepted <= 0:
            return  # a finger on the like button: extra likes are simply not counted
        self.like_tokens -= accepted
        self.hub.add_likes(accepted)

    async def on_click(self, msg: dict[str, Any], ref: Any) -> None:
        pid = msg.get("product_id")
        if not isinstance(pid, int) or isinstance(pid, bool) or not any(p["id"] == pid for p in self.hub.shelf):
            return self._error("product_not_on_shelf", FRIENDLY_ERRORS["product_not_on_shelf"], ref)
        self.hub.add_click()

    async def on_report(self, msg: dict[str, Any], ref: Any) -> None:
        if self._login_required(ref):
            return
        try:
            item = await database_sync_to_async(_report)(self.user, self.hub.stream_id, msg)
        except DomainError as exc:
            return self._domain_error(exc, ref, details=exc.status == 429)
        self._reply({"t": "ack", "ref": ref, "id": item.pk})

    async def on_gift(self, msg: dict[str, Any], ref: Any) -> None:
        if self._login_required(ref):
            return
        try:
            gift = await database_sync_to_async(_gift)(self.user, self.hub.stream_id, msg.get("kind"))
        except DomainError as exc:
            return self._domain_error(exc, ref, details=exc.status == 429)
        self._reply({"t": "ack", "ref": ref, "id": gift.pk})

    async def on_host_action(self, kind: str, msg: dict[str, Any], ref: Any) -> None:
        try:
            result = await database_sync_to_async(_host_action)(kind, self.user, self.hub.stream_id, msg)
        except DomainError as exc:
            return self._domain_error(exc, ref, details=True)
        self._reply({"t": "ack", "ref": ref, **result})


def _iso(epoch: float) -> str | None:
    if not epoch:
        return None
    return timezone.datetime.fromtimestamp(epoch, tz=timezone.get_current_timezone()).isoformat()


# --- the synchronous halves (run in the database thread) -----------------------------------------


def _stream(stream_id: int) -> Stream:
    return selectors.get_stream(stream_id)


def _int(msg: dict[str, Any], field: str, *, default: int | None = None) -> int:
    value = msg.get(field, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{field}: a whole number is required.", details={"field": field})
    if not -MAX_INT <= value <= MAX_INT:
        raise ValidationFailed(f"{field}: out of range.", details={"field": field})
    return value


def _str(msg: dict[str, Any], field: str) -> str:
    value = msg.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field}: must be text.", details={"field": field})
    return value


def _user(msg: dict[str, Any]) -> User:
    user = selectors.user_by_id(_int(msg, "user_id"))
    if user is None:
        raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
    return user


def _report(user: Any, stream_id: int, msg: dict[str, Any]):  # noqa: ANN202
    message_id = msg.get("message_id")
    user_id = msg.get("user_id")
    return moderation.report(reporter=user, stream=_stream(stream_id), reason=_str(msg, "reason"),
                             message_id=message_id, user_id=user_id if message_id is None else None,
                             note=_str(msg, "note"))


def _gift(user: Any, stream_id: int, kind: Any) -> Gift:
    return chat.send_gift(user=user, stream=_stream(stream_id), kind=str(kind or ""), via=Gift.Via.SOCKET)


def _host_action(kind: str, user: Any, stream_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(stream_id)
    reason = _str(msg, "reason")
    if kind == "pin":
        product = selectors.product_by_id(_int(msg, "product_id"))
        pin = streams.pin_product(actor=user, stream=stream, product=product)
        return {"id": pin.pk}
    if kind == "unpin":
        pin = streams.unpin_product(actor=user, stream=stream)
        return {"id": pin.pk if pin else None}
    if kind == "announce":
        return {"id": streams.post_announcement(actor=user, stream=stream, text=_str(msg, "text")).pk}
    if kind == "mute":
        item = moderation.mute_user(actor=user, stream=stream, user=_user(msg), seconds=_int(msg, "seconds", default=300),
                                    reason=reason)
        return {"id": item.pk}
    if kind == "unmute":
        moderation.unmute_user(actor=user, stream=stream, user=_user(msg), reason=reason)
        return {}
    if kind == "ban":
        return {"id": moderation.ban_user(actor=user, stream=stream, user=_user(msg), reason=reason).pk}
    if kind == "unban":
        moderation.unban_user(actor=user, stream=stream, user=_user(msg), reason=reason)
        return {}
    if kind == "delete":
        return {"id": moderation.delete_message(actor=user, stream=stream, message_id=_int(msg, "message_id"),
                                                reason=reason).pk}
    if kind == "slow_mode":
        moderation.set_slow_mode(actor=user, stream=stream, seconds=_int(msg, "seconds"), reason=reason)
        return {}
    if kind == "established_only":
        moderation.set_established_only(actor=user, stream=stream, minutes=_int(msg, "minutes"), reason=reason)
        return {}
    if kind == "end":
        streams.end_stream(stream=stream, actor=user, reason=reason)
        return {}
    raise ValidationFailed(f"unknown action {kind}")
