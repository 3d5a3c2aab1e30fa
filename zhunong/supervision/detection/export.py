"""This platform's own streams in the event-log format (`zhunong supervise export`, the post-stream job).

What the platform records, and only that (nothing is made up to fill the format):
- `stream`: the host's public-servant flag; the host's organisation is the channel's county
  (`region:<id>`), and a buyer's organisation is the region a staff account works for (`User.region`),
  so county staff buying at the county's official stream are "linked" (docs/supervision.md).
- Viewer sessions (`ViewerSession`: one row per viewer, first and last seen): a `join` at first_seen and
  a `heartbeat` at last_seen when it differs (the room did see the viewer then); no `leave`, since the
  room does not record one. Anonymous viewers' browser ids become device hashes; addresses are not kept.
- `viewers`: the room's displayed count per minute (`StreamMinute.concurrent_viewers`).
- `chat`: messages of viewers with a session (the host's own replies are not audience).
  Likes and product clicks are kept per minute, not per viewer, so they cannot be events of a session.
- Orders of the stream with their lines (unit cost = the product's cost floor), payments (paid_at),
  cancellations and refunds (times from the order's transition history and the refund records).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from django.db.models import Prefetch

from zhunong.live.models import ChatMessage, Stream, StreamMinute, ViewerSession
from zhunong.orders.models import Order, OrderLine, OrderStatus, OrderTransition
from zhunong.payments.models import Refund
from zhunong.supervision.eventlog import iso


def _hash(*parts: object) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=10).hexdigest()


def _account(user) -> dict:  # noqa: ANN001
    meta = {"id": f"u{user.pk}", "created_at": iso(user.date_joined.timestamp())}
    if user.region_id:
        meta["org"] = f"region:{user.region_id}"
    return meta


def stream_events(stream: Stream) -> Iterator[tuple[float, dict]]:
    """(time, event) pairs of one stream, unsorted and without event ids."""
    stream = Stream.objects.select_related("host", "channel").get(pk=stream.pk)
    start = (stream.started_at or stream.planned_start).timestamp()
    sid = f"s{stream.pk}"
    head = {"type": "stream", "stream_id": sid, "host_id": f"h{stream.host_id}",
            "official": stream.host.is_public_servant, "host_org": f"region:{stream.channel.county_id}",
            "title": stream.title}
    if stream.ended_at:
        head["end_ts"] = iso(stream.ended_at.timestamp())
    yield start, head
    sessions: dict[int, str] = {}
    for vs in ViewerSession.objects.filter(stream=stream).select_related("user").order_by("first_seen", "pk"):
        key = f"vs{vs.pk}"
        join = {"type": "join", "stream_id": sid, "session_id": key, "device_hash": _hash("viewer", vs.viewer_key)}
        if vs.user_id:
            join["account"] = _account(vs.user)
            sessions.setdefault(vs.user_id, key)
        first = max(vs.first_seen.timestamp(), start)
        yield first, join
        if vs.last_seen > vs.first_seen:
            yield max(vs.last_seen.timestamp(), first), {"type": "heartbeat", "session_id": key}
    for msg in ChatMessage.objects.filter(stream=stream, is_host=False, user__isnull=False).only(
            "user_id", "created_at"):
        if msg.user_id in sessions:
            yield msg.created_at.timestamp(), {"type": "chat", "session_id": sessions[msg.user_id]}
    for minute in StreamMinute.objects.filter(stream=stream):
        yield minute.minute.timestamp() + 60, {"type": "viewers", "stream_id": sid,
                                               "reported": minute.concurrent_viewers}
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product", "flash_sale"))
    orders = (Order.objects.filter(stream=stream).select_related("buyer", "coupon")
              .prefetch_related(lines).order_by("created_at", "pk"))
    undone = {}
    for t in OrderTransition.objects.filter(order__stream=stream, to_status=OrderStatus.CANCELLED).order_by("at"):
        undone.setdefault(t.order_id, t.at)
    refunds: dict[int, list[Refund]] = {}
    for r in Refund.objects.filter(order__stream=stream, status=Refund.Status.SUCCEEDED).order_by("completed_at"):
        refunds.setdefault(r.order_id, []).append(r)
    for order in orders:
        oid = order.number
        items, reason = [], ""
        for line in order.lines.all():
            items.append({"product_id": f"p{line.product_id}", "quantity": line.quantity,
                          "unit_price": float(line.unit_price), "unit_cost": float(line.product.cost_floor)})
            reason = reason or line.product.below_cost_reason or (
                line.flash_sale.below_cost_reason if line.flash_sale_id else "")
        if order.coupon_id:
            reason = reason or order.coupon.below_cost_reason
        if not items:
            continue
        ev = {"type": "order", "order_id": oid, "stream_id": sid, "account": _account(order.buyer),
              "items": items, "amount": float(order.total), "discount": float(order.discount)}
        if order.coupon_id:
            ev["coupon_id"] = f"c{order.coupon_id}"
        if order.ship_to_address:
            ev["ship_to_hash"] = _hash("ship", " ".join(order.ship_to_address.split()))
        if reason:
            ev["below_cost_reason"] = reason
        at = order.created_at.timestamp()
        yield at, ev
        if order.paid_at:
            yield max(order.paid_at.timestamp(), at), {"type": "payment", "order_id": oid, "amount": float(order.total)}
        if order.pk in undone and not order.paid_at:
            yield max(undone[order.pk].timestamp(), at), {"type": "cancel", "order_id": oid}
        paid = float(order.total) if order.paid_at else 0.0
        for r in refunds.get(order.pk, []):
            amount = min(float(r.amount), paid)
            if amount > 0 and order.paid_at:
                when = (r.completed_at or r.created_at).timestamp()
                yield max(when, order.paid_at.timestamp()), {"type": "refund", "order_id": oid, "amount": amount}
                paid -= amount


def export_stream(stream: Stream) -> list[dict]:
    """One stream's log: events in time order, each with its event id."""
    pairs = list(stream_events(stream))
    # An order placed before the stream went live (a pre-order) must not fall before the stream's own line.
    pairs[0] = (min(p[0] for p in pairs), pairs[0][1])
    pairs.sort(key=lambda p: p[0])
    return [{"type": ev["type"], "event_id": f"s{stream.pk}-e{n}", "ts": iso(ts),
             **{k: v for k, v in ev.items() if k != "type"}} for n, (ts, ev) in enumerate(pairs)]
