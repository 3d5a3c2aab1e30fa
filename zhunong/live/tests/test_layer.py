"""The Redis channel layer as the room hubs use it: a quiet room must not go deaf."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.postgres_redis


def test_receive_survives_a_silence_longer_than_the_blocking_pop():
    """channels_redis blocks 5 s per pop; with redis-py 8's default 5 s socket timeout the read failed
    (and a message popped at that instant was lost). settings.py gives the layer a longer timeout."""

    async def scenario() -> float:
        layer = get_channel_layer()
        channel = await layer.new_channel()

        async def later() -> None:
            await asyncio.sleep(6)
            await layer.send(channel, {"type": "room.event", "important": True, "event": {"t": "sale"}})

        sender = asyncio.create_task(later())
        start = time.monotonic()
        message = await asyncio.wait_for(layer.receive(channel), 15)
        await sender
        assert message["event"] == {"t": "sale"}
        return time.monotonic() - start

    assert asyncio.run(scenario()) >= 5.5
