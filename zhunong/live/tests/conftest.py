"""Fixtures for the live app: a county channel, a verified host and a scheduled stream, all via services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.testing import make_user


@dataclass
class Room:
    world: object
    channel: object
    host: object
    stream: object
    products: list

    @property
    def operator(self):  # noqa: ANN201
        return self.world.operator


def build_room(world, *, public_servant: bool = False, live: bool = True, products: int = 2):  # noqa: ANN001, ANN201
    from zhunong.live import services

    channel = services.create_channel(actor=world.operator, county=world.county, name="胶州助农官方频道")
    user = make_user(roles.BUYER)
    host = services.create_host(actor=world.operator, user=user, channel=channel,
                                kind="first_secretary" if public_servant else "villager", title="主播")
    services.verify_host(actor=world.operator, host=host, method="id_card_in_person", note="现场核验")
    items = [world.listed_product(name=f"洋河蓝莓{i}") for i in range(products)]
    now = timezone.now()
    stream = services.schedule_stream(actor=world.operator, host=host, title="蓝莓采摘直播",
                                      planned_start=now, planned_end=now + dt.timedelta(hours=2), products=items)
    from zhunong.live.store import forget_room

    forget_room(stream.pk)
    if live:
        stream = services.start_stream(stream=stream, actor=user)
    return Room(world=world, channel=channel, host=host, stream=stream, products=items)


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    return build_room(world)


@pytest.fixture
def official_room(world):  # noqa: ANN001, ANN201
    return build_room(world, public_servant=True)
