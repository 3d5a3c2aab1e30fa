"""The per-process room hub: one channel-layer subscription per room per process, local fan-out.

Channels' usual pattern (every websocket joins the group `room.<id>`) makes the channel layer deliver
each event once per viewer; with thousands of viewers that is thousands of layer messages per event
(docs/benchmarks.md has the measurement). Instead, each server process runs one hub per active room:

- the hub is the only member of the group `room.<id>` from this process, so every event crosses the
  channel layer once per process, not once per viewer;
- what arrives in a tick is put into one `batch` frame, JSON-encoded once, and appended to every local
  connection's bounded send buffer; each connection's writer task drains its own buffer, so a slow
  client only delays itself; a client whose buffer fills is skipped for chat and closed if it cannot
  take an important event (it reconnects and gets a fresh snapshot);
- likes are summed and sent as a total once per tick; chat is sampled down to a readable rate;
  important events (host replies, moderation, pins, stock, sales, status) are never sampled out;
- chat sent through this process is stored in one insert per tick and published to the group after
  the commit, so viewers on every process see it;
- every few seconds the hub refreshes the room's viewer keys in the shared store (Redis when there
  are several processes), reads back the room-wide count, and adds its share of the per-minute series.

Words for people: a frame pushed to one connection (an error, the welcome) is worded in that connection's
language (`say`); a shared batch is encoded once for everyone, so it carries codes and data only and the
client words it (docs/live-protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import random
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from zhunong.core.events import room_group

from . import payloads, selectors
from .chat import (
    ChatIn,
    add_minute_stats,
    minute_of,
    record_new_viewers,
    save_chat_batch,
    set_like_total,
    touch_viewers,
)
from .filtering import Automaton
from .models import Gift, RoomRestriction
from .store import get_store

log = logging.getLogger(__name__)

# Outbound: at most one batch frame per connection per tick (bounds the frame rate a viewer receives).
# Each frame costs a send per connection, so big rooms tick slower: 0.2 s up to 3,200 viewers, then
# growing with the room to at most 0.5 s (5,000 viewers: 0.31 s).
TICK = 0.2
MAX_TICK = 0.5
TICK_PER_CONNECTION = 1 / 16000
# Inbound: chat sent through this process is gathered this long, then stored and published together.
INBOUND_COALESCE = 0.03
# Chat shown per second (about what a person can read in a fast room); the rest is sampled out.
READABLE_CHAT_PER_SEC = 15.0
CHAT_BURST = 10.0
# Viewer sweep: refresh viewer keys, recount, close silent connections, refresh the word list.
SWEEP = 5.0
SWEEP_MIN_INTERVAL = 1.0
HEARTBEAT_TIMEOUT = 45.0
STATS_FLUSH = 10.0
# A room with no local connection stops its hub after this grace (a quick reconnect keeps it).
IDLE_GRACE = 10.0
RECENT_CHAT = 30
GROUP_REFRESH = 3600.0


class RoomConnection(Protocol):
    """What the hub needs from a websocket connection (consumers.RoomConsumer)."""

    viewer_key: str
    user_id: int | None
    role: str
    language: str  # for the frames addressed to this connection alone
    last_seen: float
    client_ref: Any

    def push(self, frame: str, *, important: bool) -> None: ...

    def close_after_flush(self, code: int) -> None: ...


@dataclass
class PendingChat:
    conn: Any
    ref: Any
    item: ChatIn
    role: str


def db(fn: Any) -> Any:
    """Run `fn` in the database thread, keeping that thread's connection open between calls.

    Channels' database_sync_to_async closes connections older than CONN_MAX_AGE around every call; with
    the default of 0 every tick's chat insert would open a new PostgreSQL connection (a backend fork,
    slow on a busy machine). The hub writes several times a second, so it reuses the connection and
    drops it only after an error or a transaction left open, as Django does at the end of a request.
    """

    def run(*args: Any, **kwargs: Any) -> Any:
        for conn in connections.all(initialized_only=True):
            if conn.connection is None:
                continue
            if conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
                conn.close()
            elif conn.errors_occurred:
                if conn.is_usable():
                    conn.errors_occurred = False
                else:
                    conn.close()
        return fn(*args, **kwargs)

    return sync_to_async(run, thread_sensitive=True)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def say(conn: Any, message: Any, params: dict[str, Any] | None = None) -> str:
    """`message` (gettext_lazy text, `params` filled in) in the language of `conn`, a connection or its send
    buffer. Only for frames addressed to that one connection, never for a batch shared by the room."""
    with translation.override(getattr(conn, "language", None) or settings.LANGUAGE_CODE):
        return str(message % params) if params else str(message)


class RoomHub:
    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self.group = room_group(stream_id)
        self.conns: set[Any] = set()
        self.ready = asyncio.get_running_loop().create_future()
        self.stopped = False
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.tasks: list[asyncio.Task] = []
        self.stream: Any = None  # the Stream row, loaded once (host, channel) for permission checks
        self.status = ""
        self.info: dict[str, Any] = {}
        self.shelf: list[dict[str, Any]] = []
        self.pin: dict[str, Any] | None = None
        self.announcement: dict[str, Any] | None = None
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_CHAT)
        self.slow_mode = 0
        self.established_minutes = 0
        self.mutes: dict[int, float] = {}
        self.bans: set[int] = set()
        self.likes = 0
        self.viewers = 0
        self.automaton: Automaton | None = None
        self.words_version = -1
        self.seq = 0
        # inbound (from local connections)
        self._in_chat: list[PendingChat] = []
        self._in_likes = 0
        self._in_wake = asyncio.Event()
        # outbound (from the channel layer)
        self._out_important: list[dict[str, Any]] = []
        self._out_chat: list[dict[str, Any]] = []
        self._out_staff: list[dict[str, Any]] = []
        self._likes_dirty = False
        self._viewers_dirty = False
        self._out_wake = asyncio.Event()
        self._last_flush = 0.0
        self._chat_budget = CHAT_BURST
        self._closing_code: int | None = None
        # viewers and the minute series
        self._known_keys: set[str] = set()
        self._key_counts: dict[str, int] = {}
        # Connections per address (anonymous) or per account (logged in), for the per-address cap.
        self._limit_counts: dict[str, int] = {}
        self._new_keys_pending: list[tuple[str, int | None]] = []
        self._sweep_wake = asyncio.Event()
        self._dropped_keys: set[str] = set()
        self._minute: Any = None
        self._m = {"chat": 0, "likes": 0, "clicks": 0, "new": 0, "peak": 0}
        self._last_stats = time.monotonic()
        self._last_touch_db = 0.0
        self._idle_since: float | None = None
        self._joined = 0.0
        self._last_sweep = 0.0
        self.sampled_out = 0  # chat left out by sampling (tests)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> bool:
        """Load the room; False if the stream does not exist."""
        state = await db(_load_state)(self.stream_id)
        if state is None:
            return False
        self.stream = state["stream"]
        self.status = state["status"]
        self.info = state["info"]
        self.shelf = state["shelf"]
        self.pin = state["pin"]
        self.announcement = state["announcement"]
        self.recent.extend(state["recent"])
        self.slow_mode = state["slow_mode"]
        self.established_minutes = state["established_minutes"]
        self.mutes = state["mutes"]
        self.bans = state["bans"]
        self.likes = state["likes"]
        await self._refresh_words(force=True)
        store = get_store()
        if state["seen_keys"]:
            await store.preload_seen(self.stream_id, state["seen_keys"])
        self.viewers = await store.count(self.stream_id, time.time())
        if self.layer is not None:
            self.channel = await self.layer.new_channel(prefix="live-hub.")
            await self.layer.group_add(self.group, self.channel)
            self._joined = time.monotonic()
            self.tasks.append(asyncio.create_task(self._receive_loop()))
        self.tasks.append(asyncio.create_task(self._inbound_loop()))
        self.tasks.append(asyncio.create_task(self._outbound_loop()))
        self.tasks.append(asyncio.create_task(self._sweep_loop()))
        return True

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        _forget(self)
        with contextlib.suppress(Exception):
            await self._drain_inbound()
        with contextlib.suppress(Exception):
            await self._flush_stats()
        if self.layer is not None and self.channel:
            with contextlib.suppress(Exception):
                await self.layer.group_discard(self.group, self.channel)
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        for task in self.tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- connections -------------------------------------------------------------------------

    def attach(self, conn: Any, *, limit_key: str = "", cap: int = 0) -> bool:
        """Add a connection to the room and send it `welcome`; False (and nothing added) if `limit_key`
        (its address or account) already holds `cap` connections here (0: no cap)."""
        if limit_key:
            held = self._limit_counts.get(limit_key, 0)
            if cap and held >= cap:
                return False
            self._limit_counts[limit_key] = held + 1
        conn.limit_key = limit_key
        self.conns.add(conn)
        self._key_counts[conn.viewer_key] = self._key_counts.get(conn.viewer_key, 0) + 1
        self._idle_since = None
        self._dropped_keys.discard(conn.viewer_key)
        if conn.viewer_key not in self._known_keys:
            self._new_keys_pending.append((conn.viewer_key, conn.user_id))
            self._known_keys.add(conn.viewer_key)
        conn.push(dumps(self.welcome(conn)), important=True)
        # Count the newcomer at once rather than at the next sweep.
        self._touch_soon()
        return True

    def detach(self, conn: Any) -> None:
        if conn not in self.conns:
            return
        self.conns.discard(conn)
        limit_key = getattr(conn, "limit_key", "")
        if limit_key:
            held = self._limit_counts.get(limit_key, 1) - 1
            if held > 0:
                self._limit_counts[limit_key] = held
            else:
                self._limit_counts.pop(limit_key, None)
        left = self._key_counts.get(conn.viewer_key, 1) - 1
        if left > 0:
            self._key_counts[conn.viewer_key] = left
        else:
            # The viewer's last connection here: stop counting them at once (another process that still
            # serves them re-adds the key at its next sweep).
            self._key_counts.pop(conn.viewer_key, None)
            # Forgotten here too, so churning connections cannot grow the hub; if the viewer comes back, the
            # shared store (mark_seen) still knows them and does not count them as new again.
            self._known_keys.discard(conn.viewer_key)
            self._dropped_keys.add(conn.viewer_key)
            self._touch_soon()
        if not self.conns:
            self._idle_since = time.monotonic()

    def welcome(self, conn: Any) -> dict[str, Any]:
        return {
            "t": "welcome",
            "v": payloads.PROTOCOL_VERSION,
            "seq": self.seq,
            "stream": {**self.info, "status": self.status, "gifts": _gift_labels(self.info.get("gifts"), conn)},
            "you": {
                "user_id": conn.user_id,
                "name": payloads.esc(conn.name) if conn.user_id else "",
                "role": conn.role,
                "muted_until": _iso(self.mutes.get(conn.user_id or 0, 0.0)),
            },
            "settings": {"slow_mode": self.slow_mode, "established_only": self.established_minutes},
            "shelf": self.shelf,
            "pin": self.pin,
            "likes": self.likes,
            "viewers": self.viewers,
            "announcement": self.announcement,
            "recent": list(self.recent),
        }

    def muted_until(self, user_id: int, now: float) -> float:
        until = self.mutes.get(user_id, 0.0)
        return until if until > now else 0.0

    # --- inbound: local connections -> store + channel layer ----------------------------------

    def submit_chat(self, conn: Any, ref: Any, item: ChatIn, role: str) -> None:
        self._in_chat.append(PendingChat(conn=conn, ref=ref, item=item, role=role))
        self._in_wake.set()

    def add_likes(self, n: int) -> None:
        self._in_likes += n
        self._m["likes"] += n
        self._in_wake.set()

    def add_click(self) -> None:
        self._m["clicks"] += 1

    async def _inbound_loop(self) -> None:
        while True:
            await self._in_wake.wait()
            await asyncio.sleep(INBOUND_COALESCE)
            self._in_wake.clear()
            try:
                await self._drain_inbound()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room %s: inbound batch failed", self.stream_id)

    async def _drain_inbound(self) -> None:
        chats, self._in_chat = self._in_chat, []
        likes, self._in_likes = self._in_likes, 0
        if chats:
            try:
                saved = await db(save_chat_batch)(
                    stream_id=self.stream_id, items=[c.item for c in chats])
            except Exception:
                log.exception("room %s: could not store %d chat messages", self.stream_id, len(chats))
                for c in chats:
                    c.conn.push(dumps({"t": "error", "code": "server_error", "ref": c.ref,
                                       "message": say(c.conn, gettext_lazy("消息未能保存，请重试"))}), important=True)
                saved = []
            frames = []
            for pending, msg in zip(chats, saved, strict=False):
                if msg.status == "blocked":
                    pending.conn.push(dumps({"t": "error", "code": "blocked_words", "ref": pending.ref,
                                             "message": say(pending.conn, gettext_lazy("消息包含敏感词，未发送"))}),
                                      important=True)
                    continue
                frame = payloads.chat(msg, role=pending.role)
                frames.append(frame)
                self._m["chat"] += 1
                pending.conn.push(dumps({"t": "ack", "ref": pending.ref, "id": msg.pk, "text": frame["text"]}),
                                  important=True)
            if frames:
                # Stored and committed above: now every process's hub may show them.
                await self._group_send({"type": "room.chat", "messages": frames})
        if likes:
            total = await get_store().add_likes(self.stream_id, likes, self.likes)
            await self._group_send({"type": "room.likes", "total": total})

    async def _group_send(self, message: dict[str, Any]) -> None:
        if self.layer is None:
            self.on_message(message)
            return
        await self.layer.group_send(self.group, message)

    # --- outbound: channel layer -> local connections -----------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A Redis hiccup must not leave the room deaf: log, wait a moment, listen again.
                log.exception("room %s: channel-layer receive failed", self.stream_id)
                await asyncio.sleep(0.5)
                continue
            try:
                self.on_message(message)
            except Exception:
                log.exception("room %s: bad layer message %r", self.stream_id, message.get("type"))

    def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "room.chat":
            for frame in message.get("messages", []):
                if frame.get("role") in ("host", "staff"):
                    self._out_important.append(frame)
                else:
                    self._out_chat.append(frame)
                self.recent.append(frame)
        elif kind == "room.likes":
            total = int(message.get("total") or 0)
            if total > self.likes:
                self.likes = total
                self._likes_dirty = True
        elif kind == "room.event":
            event = message.get("event")
            if not isinstance(event, dict) or not isinstance(event.get("t"), str):
                return
            self._apply(event)
            if message.get("audience") == "staff":
                self._out_staff.append(event)
            elif message.get("important", True):
                self._out_important.append(event)
            else:
                self._out_chat.append(event)
        else:
            return
        self._out_wake.set()

    def _apply(self, event: dict[str, Any]) -> None:
        """Keep the hub's snapshot (for newcomers' welcome) in step with the room's events."""
        t = event["t"]
        if t == "status":
            self.status = str(event.get("status", self.status))
            if self.status in ("ended", "cancelled"):
                self._closing_code = 4410
                self.pin = None
        elif t == "pin":
            self.pin = event.get("pin")
        elif t == "unpin":
            self.pin = None
        elif t == "announce":
            self.announcement = {k: event.get(k) for k in ("id", "text", "at")}
        elif t == "shelf":
            self.shelf = event.get("products") or []
        elif t == "settings":
            self.slow_mode = int(event.get("slow_mode") or 0)
            self.established_minutes = int(event.get("established_only") or 0)
        elif t == "deleted":
            mid = event.get("message_id")
            self.recent = deque((m for m in self.recent if m.get("id") != mid), maxlen=RECENT_CHAT)
        elif t == "mod":
            uid = event.get("user_id")
            action = event.get("action")
            if not isinstance(uid, int):
                return
            if action == "mute":
                self.mutes[uid] = _epoch(event.get("until"))
            elif action == "unmute":
                self.mutes.pop(uid, None)
            elif action == "ban":
                self.bans.add(uid)
                for conn in [c for c in self.conns if c.user_id == uid]:
                    conn.push(dumps({"t": "error", "code": "banned",
                                     "message": say(conn, gettext_lazy("你已被移出直播间"))}), important=True)
                    conn.close_after_flush(4403)
            elif action == "unban":
                self.bans.discard(uid)
        elif t == "stock":
            pid, stock = event.get("product_id"), event.get("stock")
            if isinstance(pid, int) and isinstance(stock, int):
                for item in self.shelf:
                    if item.get("id") == pid:
                        item["stock"] = stock
                if self.pin and self.pin.get("product", {}).get("id") == pid:
                    self.pin["product"]["stock"] = stock

    async def _outbound_loop(self) -> None:
        while True:
            await self._out_wake.wait()
            wait = self._last_flush + self.tick() - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._out_wake.clear()
            try:
                self._flush_out()
            except Exception:
                log.exception("room %s: fan-out failed", self.stream_id)

    def tick(self) -> float:
        # By the room's size across processes (a viewer of a big room gets the same rate on any process).
        size = max(len(self.conns), self.viewers)
        return min(MAX_TICK, max(TICK, size * TICK_PER_CONNECTION))

    def _flush_out(self) -> None:
        now = time.monotonic()
        elapsed = now - self._last_flush if self._last_flush else self.tick()
        self._last_flush = now
        important, self._out_important = self._out_important, []
        chat, self._out_chat = self._out_chat, []
        staff, self._out_staff = self._out_staff, []
        self._chat_budget = min(CHAT_BURST, self._chat_budget + READABLE_CHAT_PER_SEC * elapsed)
        take = min(len(chat), int(self._chat_budget))
        dropped = len(chat) - take
        if dropped:
            keep = sorted(random.sample(range(len(chat)), take))
            chat = [chat[i] for i in keep]
            self.sampled_out += dropped
        self._chat_budget -= take
        events = important + chat
        # Keep the room's own order (chat and events interleave by arrival, roughly) simple: important
        # first, then the sampled chat; each carries its own time.
        if dropped:
            events.append({"t": "sampled", "n": dropped})
        if self._likes_dirty:
            events.append({"t": "likes", "total": self.likes})
            self._likes_dirty = False
        if self._viewers_dirty:
            events.append({"t": "viewers", "n": self.viewers})
            self._viewers_dirty = False
        if events:
            self.seq += 1
            frame = dumps({"t": "batch", "seq": self.seq, "events": events})
            is_important = bool(important)
            for conn in list(self.conns):
                conn.push(frame, important=is_important)
        if staff:
            frame = dumps({"t": "batch", "seq": self.seq, "staff": True, "events": staff})
            for conn in [c for c in self.conns if c.role in ("host", "staff")]:
                conn.push(frame, important=True)
        if self._closing_code is not None:
            code, self._closing_code = self._closing_code, None
            for conn in list(self.conns):
                conn.close_after_flush(code)

    # --- viewers, heartbeats, the minute series -----------------------------------------------

    def _touch_soon(self) -> None:
        self._sweep_wake.set()

    async def _sweep_loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._sweep_wake.wait(), SWEEP)
            # Joins in a burst are counted together, at most one sweep a second (a sweep walks every
            # connection, so sweeping per join would be quadratic while a big room fills up).
            await asyncio.sleep(max(0.05, self._last_sweep + SWEEP_MIN_INTERVAL - time.monotonic()))
            self._sweep_wake.clear()
            self._last_sweep = time.monotonic()
            try:
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room %s: sweep failed", self.stream_id)
            if self._idle_since is not None and time.monotonic() - self._idle_since >= IDLE_GRACE:
                await self.stop()
                return

    async def _sweep(self) -> None:
        store = get_store()
        wall = time.time()
        mono = time.monotonic()
        alive: set[str] = set()
        for conn in list(self.conns):
            if mono - conn.last_seen > HEARTBEAT_TIMEOUT:
                conn.push(dumps({"t": "error", "code": "heartbeat_timeout", "message": say(conn, gettext_lazy("连接超时"))}),
                          important=True)
                conn.close_after_flush(4408)
                continue
            alive.add(conn.viewer_key)
        dropped = self._dropped_keys - alive
        self._dropped_keys = set()
        if dropped:
            await store.drop(self.stream_id, dropped)
        await store.touch(self.stream_id, alive, wall)
        # A viewer who left and came back before this sweep is pending twice: once is enough.
        pending, self._new_keys_pending = list(dict.fromkeys(self._new_keys_pending)), []
        if pending:
            new = set(await store.mark_seen(self.stream_id, [k for k, _ in pending]))
            fresh = [(k, uid) for k, uid in pending if k in new]
            if fresh:
                self._m["new"] += len(fresh)
                await db(record_new_viewers)(
                    stream_id=self.stream_id, viewers=fresh, at=timezone.now())
        count = await store.count(self.stream_id, wall)
        if count != self.viewers:
            self.viewers = count
            self._viewers_dirty = True
            self._out_wake.set()
        self._m["peak"] = max(self._m["peak"], count)
        _settle_gc()
        if mono - self._last_stats >= STATS_FLUSH or self._minute_changed():
            await self._flush_stats()
            if alive and mono - self._last_touch_db >= 60:
                self._last_touch_db = mono
                await db(touch_viewers)(
                    stream_id=self.stream_id, keys=list(alive), at=timezone.now())
        await self._refresh_words()
        if self.layer is not None and self.channel and time.monotonic() - self._joined > GROUP_REFRESH:
            # channels_redis forgets group members after a day; a long-lived room must not go deaf.
            await self.layer.group_add(self.group, self.channel)
            self._joined = time.monotonic()

    def _minute_changed(self) -> bool:
        return self._minute is not None and minute_of(timezone.now()) != self._minute

    async def _flush_stats(self) -> None:
        now = timezone.now()
        minute = self._minute or minute_of(now)
        m, self._m = self._m, {"chat": 0, "likes": 0, "clicks": 0, "new": 0, "peak": self.viewers}
        self._minute = minute_of(now)
        self._last_stats = time.monotonic()
        if self.status != "live" and not any(m[k] for k in ("chat", "likes", "clicks", "new")):
            return
        await db(add_minute_stats)(
            stream_id=self.stream_id, minute=minute, concurrent=m["peak"], new_viewers=m["new"], chat=m["chat"],
            likes=m["likes"], clicks=m["clicks"])
        if m["likes"]:
            await db(set_like_total)(stream_id=self.stream_id, total=self.likes)

    async def _refresh_words(self, *, force: bool = False) -> None:
        self.automaton, self.words_version = await _shared_automaton(force=force)


# --- garbage collection ----------------------------------------------------------------------------

# A full (oldest-generation) collection walks every container object in the process; with thousands of
# connections that is a pause of a few hundred milliseconds in the middle of a fan-out. Once a room has
# grown, the long-lived connection objects are moved out of the collector's sight (gc.freeze); they are
# still freed by reference counting when a viewer leaves, and gc.unfreeze() returns them when the room
# empties. Only collections of cyclic garbage among frozen objects are deferred.
GC_FREEZE_STEP = 500
_gc_state = {"frozen_at": 0}


def _settle_gc() -> None:
    total = sum(len(h.conns) for h in _hubs().values())
    if total >= _gc_state["frozen_at"] + GC_FREEZE_STEP:
        gc.freeze()
        _gc_state["frozen_at"] = total
    elif total == 0 and _gc_state["frozen_at"]:
        gc.unfreeze()
        _gc_state["frozen_at"] = 0


# --- the automaton, shared by every hub of the process -------------------------------------------

_automaton_state: dict[str, Any] = {"version": None, "automaton": None, "checked": 0.0}
WORDS_CHECK_EVERY = 10.0


async def _shared_automaton(*, force: bool = False) -> tuple[Any, int]:
    now = time.monotonic()
    state = _automaton_state
    if not force and state["automaton"] is not None and now - state["checked"] < WORDS_CHECK_EVERY:
        return state["automaton"], state["version"]
    version = await db(selectors.words_version)()
    state["checked"] = now
    if state["automaton"] is None or version != state["version"] or force:
        words = await db(selectors.active_sensitive_words)()
        state["automaton"] = Automaton.build(words)
        state["version"] = version
    return state["automaton"], state["version"]


def reset_word_cache() -> None:
    _automaton_state.update({"version": None, "automaton": None, "checked": 0.0})


# --- loading a room ------------------------------------------------------------------------------


def _load_state(stream_id: int) -> dict[str, Any] | None:
    stream = selectors.stream_for_room(stream_id)
    if stream is None:
        return None
    pin = selectors.current_pin(stream)
    ann = selectors.latest_announcement(stream_id)
    host_user = stream.host.user
    recent = []
    for msg in selectors.recent_chat(stream_id):
        role = "host" if msg.is_host else "viewer"
        recent.append(payloads.chat(msg, role=role))
    mutes: dict[int, float] = {}
    bans: set[int] = set()
    for r in selectors.active_restrictions(stream_id):
        if r.kind == RoomRestriction.Kind.BAN:
            bans.add(r.user_id)
        elif r.until is not None:
            mutes[r.user_id] = max(mutes.get(r.user_id, 0.0), r.until.timestamp())
    seen = [] if settings.REDIS_URL else selectors.viewer_keys(stream_id)
    return {
        "stream": stream,
        "status": stream.status,
        "info": {
            "id": stream.pk,
            "title": payloads.esc(stream.title),
            "channel": payloads.esc(stream.channel.name),
            "host": {
                "user_id": host_user.pk,
                "name": payloads.esc(str(host_user)),
                "title": payloads.esc(stream.host.title),
                "kind": stream.host.kind,
                "public_servant": stream.host.is_public_servant,
            },
            "gifts": selectors.gifts_offered(stream),
            "planned_start": stream.planned_start.isoformat(),
            "planned_end": stream.planned_end.isoformat(),
        },
        "shelf": payloads.shelf(stream),
        "pin": payloads.pin(pin) if pin else None,
        "announcement": payloads.announcement(ann) if ann else None,
        "recent": recent,
        "slow_mode": stream.slow_mode_seconds,
        "established_minutes": stream.established_minutes,
        "mutes": mutes,
        "bans": bans,
        "likes": stream.like_total,
        "seen_keys": seen,
    }


# --- the registry: one hub per room per event loop (= per server process) ------------------------

_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, RoomHub]] = weakref.WeakKeyDictionary()


def _hubs() -> dict[int, RoomHub]:
    loop = asyncio.get_running_loop()
    hubs = _registry.get(loop)
    if hubs is None:
        hubs = _registry[loop] = {}
    return hubs


def _forget(hub: RoomHub) -> None:
    hubs = _hubs()
    if hubs.get(hub.stream_id) is hub:
        del hubs[hub.stream_id]


async def get_hub(stream_id: int) -> RoomHub | None:
    """The running hub of a room, started on first use; None if there is no such stream."""
    hubs = _hubs()
    hub = hubs.get(stream_id)
    if hub is None or hub.stopped:
        hub = RoomHub(stream_id)
        hubs[stream_id] = hub
        try:
            ok = await hub.start()
        except BaseException:
            _forget(hub)
            if not hub.ready.done():
                hub.ready.set_result(False)
            raise
        if not ok:
            _forget(hub)
        hub.ready.set_result(ok)
        return hub if ok else None
    ok = await asyncio.shield(hub.ready)
    return hub if ok else None


def running_hubs() -> dict[int, RoomHub]:
    return dict(_hubs())


def _gift_labels(gifts: list[dict[str, str]] | None, conn: Any) -> list[dict[str, str]]:
    """The room's gifts (loaded once, in whatever language was active) with labels in the connection's."""
    if not gifts:
        return []
    labels = dict(Gift.Kind.choices)
    return [{**g, "label": say(conn, labels.get(g["kind"], g["label"]))} for g in gifts]


def _iso(epoch: float) -> str | None:
    if not epoch or epoch <= time.time():
        return None
    return timezone.datetime.fromtimestamp(epoch, tz=timezone.get_current_timezone()).isoformat()


def _epoch(value: Any) -> float:
    if not isinstance(value, str):
        return 0.0
    try:
        return timezone.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return 0.0




async def stop_all() -> None:
    """Stop every hub of the running loop (tests; a clean shutdown flushes the minute series)."""
    for hub in list(_hubs().values()):
        await hub.stop()
