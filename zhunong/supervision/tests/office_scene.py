"""A stream with its record and a detector's flag, for the office's review, page and API tests."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.live.models import StreamMinute, StreamStatus, ViewerSession
from zhunong.orders import services as orders
from zhunong.orders.models import Order, OrderStatus
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import LiveRoom, World, make_user


@dataclass
class Scene:
    world: World
    room: LiveRoom
    honest: list[Order]
    fake: list[Order]
    refunded: Order
    sessions: list[ViewerSession]
    bots: list[ViewerSession]
    flag: IntegrityFlag
    traffic_flag: IntegrityFlag

    @property
    def inspector(self) -> User:
        return self.world.discipline_inspector


def _paid(order: Order, *, status: str = OrderStatus.PAID, refunded: str = "0") -> Order:
    # Payment is the payments app's business; the office only reads the outcome.
    Order.objects.filter(pk=order.pk).update(status=status, paid_at=timezone.now(), refunded_total=Decimal(refunded))
    order.refresh_from_db()
    return order


def build(world: World) -> Scene:
    product = world.listed_product(stock=100, price="30.00", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    stream = room.stream

    def buy(buyer: User) -> Order:
        return orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=stream,
                                   idempotency_key=uuid.uuid4().hex)

    honest = [_paid(buy(make_user())) for _ in range(3)]
    fake = [_paid(buy(make_user())) for _ in range(2)]
    refunded = _paid(buy(make_user()), status=OrderStatus.REFUNDED, refunded="30.00")
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - dt.timedelta(minutes=10)
    stream.started_at = start
    stream.save(update_fields=["started_at"])
    sessions = [ViewerSession.objects.create(stream=stream, viewer_key=f"v{i}", first_seen=start,
                                             last_seen=now) for i in range(4)]
    bots = [ViewerSession.objects.create(stream=stream, viewer_key=f"bot{i}", first_seen=start + dt.timedelta(minutes=2),
                                         last_seen=start + dt.timedelta(minutes=2)) for i in range(6)]
    for i in range(11):
        StreamMinute.objects.create(stream=stream, minute=start + dt.timedelta(minutes=i), concurrent_viewers=10 if i >= 2 else 4,
                                    new_viewers=0)
    flag = IntegrityFlag.objects.create(
        kind=IntegrityFlag.Kind.FAKE_ORDER, summary="同一批账号反复下单后退款", region=world.county, stream=stream,
        detector="fraudar", score=0.93,
        # Named as the platform's event log names them (detection/export.py): order numbers, "u<id>", "vs<id>".
        evidence={"order_ids": [o.number for o in fake], "account_ids": [f"u{o.buyer_id}" for o in fake],
                  "session_ids": [], "why": "dense buyer-product block"})
    traffic_flag = IntegrityFlag.objects.create(
        kind=IntegrityFlag.Kind.INFLATED_TRAFFIC, summary="在线人数与心跳不符", region=world.county, stream=stream,
        detector="heartbeat_gap", score=0.88, evidence={"session_ids": [f"vs{s.pk}" for s in bots], "why": "no heartbeats"})
    assert stream.status == StreamStatus.LIVE
    return Scene(world=world, room=room, honest=honest, fake=fake, refunded=refunded, sessions=sessions, bots=bots,
                 flag=flag, traffic_flag=traffic_flag)
