"""Live streams for video tests and the latency benchmark, built through the live app's services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.testing import World, make_user


@dataclass
class VideoRoom:
    world: World
    channel: object
    host: object
    stream: object
    products: list = field(default_factory=list)


def video_room(world: World, *, starts_in: dt.timedelta = dt.timedelta(0), verified: bool = True,
               products: int = 2, channel: object | None = None, title: str = "蓝莓采摘直播") -> VideoRoom:
    """A scheduled stream of a (verified) host in the world's county channel."""
    from zhunong.live import services
    from zhunong.live.models import Channel

    if channel is None:
        channel = Channel.objects.filter(county=world.county).first() or services.create_channel(
            actor=world.operator, county=world.county, name="胶州助农官方频道")
    user = make_user(roles.BUYER)
    host = services.create_host(actor=world.operator, user=user, channel=channel, kind="villager", title="主播")
    if verified:
        services.verify_host(actor=world.operator, host=host, method="id_card_in_person", note="现场核验")
    items = [world.listed_product(name=f"洋河蓝莓{i}号") for i in range(products)]
    start = timezone.now() + starts_in
    stream = services.schedule_stream(actor=world.operator, host=host, title=title, planned_start=start,
                                      planned_end=start + dt.timedelta(hours=2), products=items)
    return VideoRoom(world=world, channel=channel, host=host, stream=stream, products=items)
