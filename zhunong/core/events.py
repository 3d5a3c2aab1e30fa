"""Publish realtime events only after the surrounding transaction commits.

Services call `publish_on_commit(group, event)`; if the transaction rolls back, nothing is sent.
Consumers subscribe to groups named by `room_group(stream_id)` and friends.

Without REDIS_URL the channel layer is in-memory, one per process; a process that is not the web server (the
Huey worker under `zhunong serve`) then has EVENT_RELAY_URL set and posts its events to the web server's
layer instead (core/relay.py).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from . import relay

log = logging.getLogger(__name__)


def room_group(stream_id: int) -> str:
    return f"room.{stream_id}"


def _send(group: str, event: dict[str, Any]) -> None:
    if relay.enabled():
        relay.post(group, event)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # the commit already happened; a lost realtime event must not fail the request
        log.exception("could not publish %s to %s", event.get("type"), group)


def publish_on_commit(group: str, event: dict[str, Any], *, using: str | None = None) -> None:
    transaction.on_commit(lambda: _send(group, event), using=using)


def publish_room_event(stream_id: int, event: dict[str, Any], *, important: bool = True) -> None:
    """Send `event` (a protocol frame: {"t": type, ...}) to every viewer of a stream, after commit.

    `important` events (host, moderation, pin, stock, sale) are never sampled out or dropped by the
    room's fan-out; others (chat) may be. The live app's consumers/hub deliver `room.event` messages.
    """
    publish_on_commit(room_group(stream_id), {"type": "room.event", "important": important, "event": event})
