"""The supervision event log: one JSON object per line (docs/supervision.md, "Event log format").

`read_log(lines)` validates the log line by line. A bad line (malformed or truncated JSON, an unknown
event type, a missing or ill-typed field, a duplicate id, a reference to something the log has not
declared, a time earlier than the line before) is reported with its number and reason and skipped; the
rest is processed. Nothing is filled in: an absent optional field stays None, and a detector that needs it
says it had nothing to go on.

Pure Python (no Django): the same reader serves `zhunong supervise scan`, the post-stream job (which
writes this platform's own streams in the same format) and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

EVENT_TYPES = ("stream", "viewers", "product", "join", "heartbeat", "leave", "chat", "like", "click",
               "order", "payment", "cancel", "refund")

# Required fields beyond the common three (type, event_id, ts); docs/supervision.md lists the optional ones.
REQUIRED: dict[str, tuple[str, ...]] = {
    "stream": ("stream_id", "host_id", "official"),
    "viewers": ("stream_id", "reported"),
    "product": ("product_id", "cost"),
    "join": ("stream_id", "session_id"),
    "heartbeat": ("session_id",),
    "leave": ("session_id",),
    "chat": ("session_id",),
    "like": ("session_id",),
    "click": ("session_id",),
    "order": ("order_id", "account", "items", "amount"),
    "payment": ("order_id", "amount"),
    "cancel": ("order_id",),
    "refund": ("order_id", "amount"),
}


_decode = json.JSONDecoder().decode


class BadLine(Exception):
    pass


@dataclass(slots=True)
class Account:
    id: str
    created_at: float | None = None
    device_hash: str | None = None
    address_hash: str | None = None
    payment_hash: str | None = None
    org: str | None = None


@dataclass(slots=True)
class Stream:
    id: str
    start: float
    host_id: str
    official: bool
    host_org: str | None = None
    title: str = ""
    end: float | None = None
    reported: list[tuple[float, int]] = field(default_factory=list)  # the platform's displayed online count
    heartbeats: list[float] = field(default_factory=list)
    joins: list[float] = field(default_factory=list)
    engagement: list[float] = field(default_factory=list)  # times of chat, like and click events


@dataclass(slots=True)
class Session:
    id: str
    stream_id: str
    joined: float
    account_id: str | None = None
    device_hash: str | None = None
    address_hash: str | None = None
    heartbeats: int = 0
    last_seen: float = 0.0
    left: float | None = None
    chats: int = 0
    likes: int = 0
    clicks: int = 0

    @property
    def engaged(self) -> bool:
        return bool(self.chats or self.likes or self.clicks)


@dataclass(slots=True)
class Item:
    product_id: str
    quantity: int
    unit_price: float
    unit_cost: float | None = None


@dataclass(slots=True)
class Order:
    id: str
    ts: float
    account_id: str
    stream_id: str | None
    items: list[Item]
    amount: float
    discount: float = 0.0
    coupon_id: str | None = None
    ship_to_hash: str | None = None
    below_cost_reason: str = ""
    line: int = 0
    paid_at: float | None = None
    paid_amount: float | None = None
    payment_hash: str | None = None
    cancelled_at: float | None = None
    refunded_at: float | None = None
    refunded_amount: float = 0.0

    @property
    def undone_at(self) -> float | None:
        """When the order was cancelled or (first) refunded: None if it stands."""
        times = [t for t in (self.cancelled_at, self.refunded_at) if t is not None]
        return min(times) if times else None


@dataclass
class EventLog:
    streams: dict[str, Stream] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    product_cost: dict[str, float] = field(default_factory=dict)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0

    def summary(self) -> dict[str, int]:
        return {"lines": self.lines, "bad_lines": len(self.bad_lines), "streams": len(self.streams),
                "sessions": len(self.sessions), "accounts": len(self.accounts), "orders": len(self.orders)}


def parse_ts(value: Any, name: str = "ts") -> float:
    """ISO 8601 with a UTC offset, or seconds since the epoch; a time without a zone is refused (it
    would have to be guessed)."""
    if isinstance(value, bool):
        raise BadLine(f"{name}: not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise BadLine(f"{name}: not a finite number")
        return float(value)
    if not isinstance(value, str):
        raise BadLine(f"{name}: not a time")
    try:
        moment = dt.datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z as UTC
    except ValueError:
        raise BadLine(f"{name}: not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise BadLine(f"{name}: time without a UTC offset: {value[:40]!r}")
    return moment.timestamp()


def _str(ev: dict, name: str, *, required: bool = True) -> str | None:
    value = ev.get(name)
    if value is None:
        if required:
            raise BadLine(f"missing field {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadLine(f"{name}: expected a string id")
    value = str(value)
    if not value or len(value) > 200:
        raise BadLine(f"{name}: empty or longer than 200 characters")
    return value


def _num(ev: dict, name: str, *, minimum: float = 0.0, required: bool = True) -> float | None:
    value = ev.get(name)
    if value is None:
        if required:
            raise BadLine(f"missing field {name}")
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise BadLine(f"{name}: not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadLine(f"{name}: not a number")
    if value < minimum:
        raise BadLine(f"{name}: below {minimum:g}")
    return float(value)


def _account(value: Any) -> Account:
    if not isinstance(value, dict):
        raise BadLine("account: expected an object")
    created = value.get("created_at")
    return Account(
        id=_str(value, "id"),
        created_at=None if created is None else parse_ts(created, "account.created_at"),
        device_hash=_str(value, "device_hash", required=False),
        address_hash=_str(value, "address_hash", required=False),
        payment_hash=_str(value, "payment_hash", required=False),
        org=_str(value, "org", required=False),
    )


def _items(value: Any) -> list[Item]:
    if not isinstance(value, list) or not value:
        raise BadLine("items: expected a non-empty list")
    items = []
    for i, raw in enumerate(value):
        if not isinstance(raw, dict):
            raise BadLine(f"items[{i}]: expected an object")
        try:
            quantity = _num(raw, "quantity", minimum=1)
            if quantity != int(quantity):
                raise BadLine("quantity: not a whole number")
            items.append(Item(product_id=_str(raw, "product_id"), quantity=int(quantity),
                              unit_price=_num(raw, "unit_price"), unit_cost=_num(raw, "unit_cost", required=False)))
        except BadLine as exc:
            raise BadLine(f"items[{i}].{exc}") from None
    return items


class _Reader:
    def __init__(self) -> None:
        self.log = EventLog()
        self.handlers = {kind: getattr(self, "_" + kind) for kind in REQUIRED}
        self.event_ids: set[str] = set()
        self.last_ts = -math.inf
        self.last_ts_line = 0

    def _merge_account(self, acc: Account) -> None:
        known = self.log.accounts.get(acc.id)
        if known is None:
            self.log.accounts[acc.id] = acc
            return
        # Later events may carry what earlier ones lacked; a value once known is kept (first wins).
        for name in ("created_at", "device_hash", "address_hash", "payment_hash", "org"):
            if getattr(known, name) is None and getattr(acc, name) is not None:
                setattr(known, name, getattr(acc, name))

    def _session(self, ev: dict) -> Session:
        sid = ev["session_id"]
        session = self.log.sessions.get(sid) if type(sid) is str else None  # the common case, checked fast
        if session is None:
            sid = _str(ev, "session_id")
            session = self.log.sessions.get(sid)
        if session is None:
            raise BadLine(f"unknown session {sid[:60]!r} (no join before)")
        if session.left is not None:
            raise BadLine(f"session {sid[:60]!r} already left")
        return session

    def _find_order(self, ev: dict) -> Order:
        oid = _str(ev, "order_id")
        order = self.log.orders.get(oid)
        if order is None:
            raise BadLine(f"unknown order {oid[:60]!r} (no order event before)")
        return order

    def line(self, number: int, text: str, *, last: bool) -> None:
        if not text.strip():
            return  # blank lines carry nothing
        try:
            ev = _decode(text)
        except ValueError as exc:
            truncated = last and not text.endswith("\n")
            raise BadLine(("truncated line: " if truncated else "malformed JSON: ") + str(exc)[:80]) from None
        if not isinstance(ev, dict):
            raise BadLine("not a JSON object")
        kind = ev.get("type")
        if type(kind) is not str or kind not in REQUIRED:
            raise BadLine(f"unknown event type {str(kind)[:40]!r}" if kind is not None else "missing field type")
        event_id = ev.get("event_id")
        if type(event_id) is not str or not 0 < len(event_id) <= 200:
            event_id = _str(ev, "event_id")
        ts = parse_ts(ev["ts"]) if "ts" in ev else None
        if ts is None:
            raise BadLine("missing field ts")
        for name in REQUIRED[kind]:
            if ev.get(name) is None:
                raise BadLine(f"missing field {name}")
        if event_id in self.event_ids:
            raise BadLine(f"duplicate event_id {event_id[:60]!r}")
        if ts < self.last_ts:
            raise BadLine(f"out of order: ts earlier than line {self.last_ts_line}'s")
        self.handlers[kind](ev, ts, number)
        self.event_ids.add(event_id)
        self.last_ts, self.last_ts_line = ts, number

    # One handler per event type: validate everything first, then change the log (a bad line changes nothing).
    def _stream(self, ev: dict, ts: float, number: int) -> None:
        sid = _str(ev, "stream_id")
        if sid in self.log.streams:
            raise BadLine(f"duplicate stream_id {sid[:60]!r}")
        if not isinstance(ev["official"], bool):
            raise BadLine("official: expected true or false")
        end = ev.get("end_ts")
        end = None if end is None else parse_ts(end, "end_ts")
        if end is not None and end < ts:
            raise BadLine("end_ts before the stream's start")
        title = ev.get("title") or ""
        if not isinstance(title, str):
            raise BadLine("title: expected a string")
        self.log.streams[sid] = Stream(id=sid, start=ts, host_id=_str(ev, "host_id"), official=ev["official"],
                                       host_org=_str(ev, "host_org", required=False), title=title[:200], end=end)

    def _stream_of(self, ev: dict) -> Stream:
        sid = _str(ev, "stream_id")
        stream = self.log.streams.get(sid)
        if stream is None:
            raise BadLine(f"unknown stream {sid[:60]!r} (no stream event before)")
        return stream

    def _viewers(self, ev: dict, ts: float, number: int) -> None:
        stream = self._stream_of(ev)
        reported = _num(ev, "reported")
        stream.reported.append((ts, int(reported)))

    def _product(self, ev: dict, ts: float, number: int) -> None:
        pid = _str(ev, "product_id")
        self.log.product_cost[pid] = _num(ev, "cost")

    def _join(self, ev: dict, ts: float, number: int) -> None:
        stream = self._stream_of(ev)
        sid = _str(ev, "session_id")
        if sid in self.log.sessions:
            raise BadLine(f"duplicate session_id {sid[:60]!r}")
        acc = _account(ev["account"]) if ev.get("account") is not None else None
        session = Session(id=sid, stream_id=stream.id, joined=ts, last_seen=ts,
                          account_id=acc.id if acc else None,
                          device_hash=_str(ev, "device_hash", required=False),
                          address_hash=_str(ev, "address_hash", required=False))
        if acc is not None:
            self._merge_account(acc)
        self.log.sessions[sid] = session
        stream.joins.append(ts)

    def _heartbeat(self, ev: dict, ts: float, number: int) -> None:
        session = self._session(ev)
        session.heartbeats += 1
        session.last_seen = ts
        self.log.streams[session.stream_id].heartbeats.append(ts)

    def _leave(self, ev: dict, ts: float, number: int) -> None:
        session = self._session(ev)
        session.left = ts
        session.last_seen = ts

    def _engage(self, ev: dict, ts: float, attr: str, amount: int = 1) -> None:
        session = self._session(ev)
        acc = _account(ev["account"]) if ev.get("account") is not None else None
        if acc is not None:
            if session.account_id not in (None, acc.id):
                raise BadLine("account differs from the session's")
            self._merge_account(acc)
            session.account_id = acc.id
        setattr(session, attr, getattr(session, attr) + amount)
        self.log.streams[session.stream_id].engagement.append(ts)

    def _chat(self, ev: dict, ts: float, number: int) -> None:
        self._engage(ev, ts, "chats")

    def _like(self, ev: dict, ts: float, number: int) -> None:
        count = _num(ev, "count", minimum=1, required=False)
        self._engage(ev, ts, "likes", int(count or 1))

    def _click(self, ev: dict, ts: float, number: int) -> None:
        self._engage(ev, ts, "clicks")

    def _order(self, ev: dict, ts: float, number: int) -> None:
        oid = _str(ev, "order_id")
        if oid in self.log.orders:
            raise BadLine(f"duplicate order_id {oid[:60]!r}")
        stream_id = None
        if ev.get("stream_id") is not None:
            stream_id = self._stream_of(ev).id
        acc = _account(ev["account"])
        items = _items(ev["items"])
        amount = _num(ev, "amount")
        discount = _num(ev, "discount", required=False) or 0.0
        reason = ev.get("below_cost_reason") or ""
        if not isinstance(reason, str):
            raise BadLine("below_cost_reason: expected a string")
        order = Order(id=oid, ts=ts, account_id=acc.id, stream_id=stream_id, items=items, amount=amount,
                      discount=discount, coupon_id=_str(ev, "coupon_id", required=False),
                      ship_to_hash=_str(ev, "ship_to_hash", required=False), below_cost_reason=reason[:300],
                      line=number)
        self._merge_account(acc)
        self.log.orders[oid] = order

    def _payment(self, ev: dict, ts: float, number: int) -> None:
        order = self._find_order(ev)
        amount = _num(ev, "amount")
        pay = _str(ev, "payment_hash", required=False)
        if order.paid_at is not None:
            raise BadLine(f"order {order.id[:60]!r} already paid")
        if order.cancelled_at is not None:
            raise BadLine(f"order {order.id[:60]!r} was cancelled")
        order.paid_at, order.paid_amount, order.payment_hash = ts, amount, pay
        acc = self.log.accounts[order.account_id]
        if pay is not None and acc.payment_hash is None:
            acc.payment_hash = pay

    def _cancel(self, ev: dict, ts: float, number: int) -> None:
        order = self._find_order(ev)
        if order.cancelled_at is not None:
            raise BadLine(f"order {order.id[:60]!r} already cancelled")
        order.cancelled_at = ts

    def _refund(self, ev: dict, ts: float, number: int) -> None:
        order = self._find_order(ev)
        amount = _num(ev, "amount")
        if order.paid_at is None:
            raise BadLine(f"refund of order {order.id[:60]!r}, which was never paid")
        if order.refunded_amount + amount > (order.paid_amount or 0) + 0.005:
            raise BadLine(f"refunds of order {order.id[:60]!r} exceed what was paid")
        if order.refunded_at is None:
            order.refunded_at = ts
        order.refunded_amount += amount


def read_log(lines: Iterable[str]) -> EventLog:
    """Read a log (an iterable of lines, e.g. an open text file). Bad lines are in `.bad_lines`."""
    reader = _Reader()
    iterator: Iterator[str] = iter(lines)
    number = 0
    current = next(iterator, None)
    while current is not None:
        number += 1
        following = next(iterator, None)
        try:
            reader.line(number, current, last=following is None)
        except BadLine as exc:
            reader.log.bad_lines.append((number, str(exc)))
        current = following
    reader.log.lines = number
    return reader.log


def iso(ts: float) -> str:
    """A time as the log writes it: ISO 8601, UTC, milliseconds."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(event: dict) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
