"""`/ws/me/`: a signed-in user's open pages hear about their own events, live.

The consumer joins the user's channel-layer group `user.<id>` (delivery.user_group), where orders publishes
`order.event` (an order's status changed) and this app `notification.event` (a new notification, the unread
count). Nothing is read from the client: the socket only carries events to the page.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .delivery import user_group

CLOSE_NOT_SIGNED_IN = 4401


class MeConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:  # noqa: ANN401
        """Clients have nothing to say here."""

    async def order_event(self, event: dict[str, Any]) -> None:
        await self.send_json({"t": "order", "order_id": event.get("order_id"), "number": event.get("number"),
                              "from": event.get("from"), "to": event.get("to")})

    async def notification_event(self, event: dict[str, Any]) -> None:
        frame = {"t": "notification", "unread": event.get("unread", 0)}
        for key in ("id", "kind", "title", "body", "url"):
            if key in event:
                frame[key] = event[key]
        await self.send_json(frame)
