"""A live room through the real services: a county channel, a verified host, a live stream, a pinned product."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from zhunong.testing import World


@dataclass
class Room:
    stream: object
    host_user: object
    host: object


def live_room(world: World, products: list, *, kind: str = "county_head", pin: object | None = None) -> Room:
    from zhunong.bench.flash_sale_harness import live_room as build

    stream, host_user, host = build(world, products, kind=kind, pin=pin)
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
