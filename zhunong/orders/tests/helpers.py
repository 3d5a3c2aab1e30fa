"""A live room through the real services: a county channel, a verified host, a live stream, a pinned product."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.testing import World, make_user, unique


@dataclass
class Room:
    stream: object
    host_user: object
    host: object


def live_room(world: World, products: list, *, kind: str = "county_head", pin: object | None = None) -> Room:
    from zhunong.live import services as live
    from zhunong.live.models import Channel

    channel = Channel.objects.filter(county=world.county).first() or live.create_channel(
        actor=world.operator, county=world.county, name=unique("胶州助农"))
    host_user = make_user(roles.HOST)
    host = live.create_host(actor=world.operator, user=host_user, channel=channel, kind=kind, title="副县长")
    live.verify_host(actor=world.operator, host=host, method="id_card_in_person")
    now = timezone.now()
    stream = live.schedule_stream(actor=world.operator, host=host, title="蓝莓专场", planned_start=now,
                                  planned_end=now + dt.timedelta(hours=2), products=products)
    stream = live.start_stream(stream=stream, actor=host_user)
    live.pin_product(actor=host_user, stream=stream, product=pin or products[0])
    stream.refresh_from_db()
    return Room(stream=stream, host_user=host_user, host=host)


def start_sale(room: Room, product, *, quantity: int = 10, price: str = "29.90", limit: int = 2,  # noqa: ANN001
               running: bool = True, **kwargs):  # noqa: ANN003, ANN201
    """A flash sale; with `running`, its countdown is skipped (moved into the past) so it sells at once."""
    from zhunong.orders import services
    from zhunong.orders.models import FlashSale

    sale = services.start_flash_sale(actor=room.host_user, stream=room.stream, product=product, quantity=quantity,
                                     sale_price=price, per_buyer_limit=limit,
                                     countdown_seconds=kwargs.pop("countdown_seconds", 10),
                                     duration_minutes=kwargs.pop("duration_minutes", 5), **kwargs)
    if running:
        now = timezone.now()
        FlashSale.objects.filter(pk=sale.pk).update(starts_at=now - dt.timedelta(seconds=1),
                                                    ends_at=now + dt.timedelta(minutes=5))
        services.sync_sale(sale_id=sale.pk)
        sale.refresh_from_db()
    return sale
