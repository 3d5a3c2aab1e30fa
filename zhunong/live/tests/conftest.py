"""Fixtures for the live app: a live stream of a verified host in the county channel (zhunong.testing.World.live_room)."""

from __future__ import annotations

import pytest

from zhunong.live.models import Host


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    return world.live_room()


@pytest.fixture
def official_room(world):  # noqa: ANN001, ANN201
    return world.live_room(kind=Host.Kind.FIRST_SECRETARY)
