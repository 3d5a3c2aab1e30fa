"""Fixtures for the live app: a live stream of a verified host in the county channel (zhunong.testing.World.live_room)."""

from __future__ import annotations

import pytest

from zhunong.live.models import Host

# In-room coupons and sales keep counters in Redis (with REDIS_URL): an earlier run's must not leak in.
from zhunong.testing_fixtures import _clean_redis_inventory  # noqa: F401


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    return world.live_room()


@pytest.fixture
def official_room(world):  # noqa: ANN001, ANN201
    return world.live_room(kind=Host.Kind.FIRST_SECRETARY)
