"""A plain CSV order export (one row per order line) into the event-log format (`zhunong supervise
convert-csv`). Column names are ours by default; `mapping` renames them (ours -> theirs).

Raw delivery addresses, devices and payment accounts are hashed (BLAKE2b, with an optional salt) as they
are read, so the log carries no personal data. A row that cannot be read is reported with its number and
reason and skipped; an order whose rows disagree keeps its first row's values. Nothing is guessed except
one thing, said on the report: without `stream_start` a stream starts at its first order.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from zhunong.supervision.eventlog import BadLine, iso, parse_ts

COLUMNS = {
    "order_id": "order number (rows with the same number are lines of one order)",
    "created_at": "when the order was placed (ISO 8601 with offset, or epoch seconds)",
    "buyer_id": "the buyer's account id",
    "product_id": "the product of this line",
    "quantity": "units on this line",
    "unit_price": "price per unit on this line, yuan",
    "amount": "what the order charged in all (after discounts), yuan; repeated on every line",
    "stream_id": "the stream it was sold in (empty: not in a stream)",
}
OPTIONAL = {
    "buyer_created_at": "when the buyer's account was created",
    "buyer_device": "the buyer's device id (hashed)",
    "buyer_address": "the buyer's network address (hashed)",
    "buyer_org": "the buyer's organisation, where recorded",
    "unit_cost": "the product's cost floor per unit",
    "discount": "coupon or other discount on the order",
    "coupon_id": "the coupon used",
    "ship_to": "delivery address (hashed after collapsing whitespace)",
    "payment_account": "the paying account (hashed)",
    "paid_at": "when it was paid (empty: never)",
    "cancelled_at": "when it was cancelled",
    "refunded_at": "when it was refunded",
    "refund_amount": "how much was refunded (default: all of it)",
    "host_id": "the stream's host",
    "host_official": "1/true when the host is a public servant",
    "host_org": "the host's organisation",
    "stream_start": "when the stream started",
}


@dataclass
class Conversion:
    events: list[dict] = field(default_factory=list)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def convert(rows: Iterable[str], *, mapping: dict[str, str] | None = None, salt: str = "") -> Conversion:
    mapping = mapping or {}
    out = Conversion()
    reader = csv.DictReader(rows)
    header = set(reader.fieldnames or [])

    def col(name: str) -> str:
        return mapping.get(name, name)

    missing = [name for name in COLUMNS if col(name) not in header]
    if missing:
        out.bad_rows.append((1, "missing columns: " + ", ".join(col(m) for m in missing)))
        return out

    def get(row: dict, name: str) -> str:
        return (row.get(col(name)) or "").strip()

    def hashed(kind: str, value: str) -> str | None:
        if not value:
            return None
        return hashlib.blake2b(f"{salt}|{kind}|{' '.join(value.split())}".encode(), digest_size=10).hexdigest()

    orders: dict[str, dict] = {}
    streams: dict[str, dict] = {}
    for number, row in enumerate(reader, start=2):
        try:
            oid = get(row, "order_id")
            if not oid:
                raise BadLine("order_id is empty")
            created = parse_ts(_num_or_str(get(row, "created_at")), "created_at")
            quantity = int(get(row, "quantity"))
            price = float(get(row, "unit_price"))
            amount = float(get(row, "amount"))
            if quantity < 1 or price < 0 or amount < 0:
                raise BadLine("quantity below 1 or a negative price or amount")
            item = {"product_id": get(row, "product_id") or _raise("product_id is empty"), "quantity": quantity,
                    "unit_price": price}
            if get(row, "unit_cost"):
                item["unit_cost"] = float(get(row, "unit_cost"))
        except (BadLine, ValueError) as exc:
            out.bad_rows.append((number, str(exc)))
            continue
        if oid in orders:
            orders[oid]["items"].append(item)
            continue
        stream_id = get(row, "stream_id") or None
        account = {"id": get(row, "buyer_id") or "unknown"}
        if get(row, "buyer_created_at"):
            try:
                account["created_at"] = iso(parse_ts(_num_or_str(get(row, "buyer_created_at")), "buyer_created_at"))
            except BadLine as exc:
                out.bad_rows.append((number, str(exc) + " (kept the order without it)"))
        for ours, key in (("buyer_device", "device_hash"), ("buyer_address", "address_hash"),
                          ("payment_account", "payment_hash")):
            if hashed(ours, get(row, ours)):
                account[key] = hashed(ours, get(row, ours))
        if get(row, "buyer_org"):
            account["org"] = get(row, "buyer_org")
        order = {"type": "order", "order_id": oid, "stream_id": stream_id, "account": account, "items": [item],
                 "amount": amount, "_ts": created, "_row": row}
        if get(row, "discount"):
            order["discount"] = float(get(row, "discount") or 0)
        if get(row, "coupon_id"):
            order["coupon_id"] = get(row, "coupon_id")
        if hashed("ship_to", get(row, "ship_to")):
            order["ship_to_hash"] = hashed("ship_to", get(row, "ship_to"))
        orders[oid] = order
        if stream_id and stream_id not in streams:
            streams[stream_id] = {"type": "stream", "stream_id": stream_id,
                                  "host_id": get(row, "host_id") or "unknown",
                                  "official": get(row, "host_official").lower() in ("1", "true", "yes", "是"),
                                  "_start": get(row, "stream_start"), "_first": created}
            if get(row, "host_org"):
                streams[stream_id]["host_org"] = get(row, "host_org")
        elif stream_id:
            streams[stream_id]["_first"] = min(streams[stream_id]["_first"], created)
    pairs: list[tuple[float, int, dict]] = []
    for sid, s in streams.items():
        start = s.pop("_first")
        raw = s.pop("_start")
        if raw:
            try:
                start = min(parse_ts(_num_or_str(raw), "stream_start"), start)
            except BadLine as exc:
                out.notes.append(f"stream {sid}: {exc}; its first order's time is used")
        else:
            out.notes.append(f"stream {sid}: no stream_start column value; its first order's time is used")
        pairs.append((start, 0, s))
    for oid, order in orders.items():
        ts, row = order.pop("_ts"), order.pop("_row")
        pairs.append((ts, 1, order))
        paid = None
        for name, kind in (("paid_at", "payment"), ("cancelled_at", "cancel"), ("refunded_at", "refund")):
            raw = get(row, name)
            if not raw:
                continue
            try:
                at = max(parse_ts(_num_or_str(raw), name), ts)
            except BadLine as exc:
                out.notes.append(f"order {oid}: {exc}; that event is left out")
                continue
            ev: dict = {"type": kind, "order_id": oid}
            if kind == "payment":
                ev["amount"] = order["amount"]
                paid = at
                if order["account"].get("payment_hash"):
                    ev["payment_hash"] = order["account"]["payment_hash"]
            if kind == "refund":
                if paid is None:
                    out.notes.append(f"order {oid}: refunded but never paid; the refund is left out")
                    continue
                at = max(at, paid)
                ev["amount"] = float(get(row, "refund_amount") or order["amount"])
            if kind == "cancel" and paid is not None:
                continue  # a paid order is undone by its refund
            pairs.append((at, 2, ev))
    pairs.sort(key=lambda p: (p[0], p[1]))
    out.events = [{"type": ev["type"], "event_id": f"csv-{n}", "ts": iso(ts),
                   **{k: v for k, v in ev.items() if k != "type"}} for n, (ts, _, ev) in enumerate(pairs)]
    return out


def _num_or_str(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _raise(message: str) -> str:
    raise BadLine(message)
