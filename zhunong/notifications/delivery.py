"""The channels a notification goes out through: in-site (the centre, pushed to open pages over the
websocket), email (Django's email backend; the console backend unless configured) and SMS (a provider
behind `SmsProvider`; `sandbox` records messages in SandboxSms, for development and tests).

`send(delivery)` returns normally when the message went out, raises `Undeliverable` when it never can
(no email address, no phone: not retried) and any other exception when it may succeed later (retried).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q

from zhunong.core.events import publish_on_commit
from zhunong.orders.services import user_group  # one group per user: orders publishes its order.event there

from .kinds import Channel
from .models import Delivery, Notification, SandboxSms


class Undeliverable(Exception):
    """This user cannot be reached over this channel (no address): recorded, never retried."""


class SmsProvider(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class SandboxSmsProvider:
    """Records each message instead of sending it (the default: no SMS gateway is configured)."""

    def send(self, *, phone: str, text: str) -> None:
        SandboxSms.objects.create(phone=phone, text=text[:500])


_SMS_PROVIDERS: dict[str, type] = {"sandbox": SandboxSmsProvider}


def sms_provider() -> SmsProvider:
    name = getattr(settings, "NOTIFICATIONS_SMS_PROVIDER", "sandbox") or "sandbox"
    try:
        return _SMS_PROVIDERS[name]()
    except KeyError:
        raise RuntimeError(f"unknown NOTIFICATIONS_SMS_PROVIDER {name!r}") from None


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, in_site=True, read_at__isnull=True).count()


def push_unread(user_id: int, *, notification: Notification | None = None) -> None:
    """Tell the user's open pages the new unread count (and the new notification, if any)."""
    event: dict = {"type": "notification.event", "unread": unread_count(user_id)}
    if notification is not None:
        event.update({"id": notification.pk, "kind": notification.kind, "title": notification.title,
                      "body": notification.body, "url": notification.url})
    publish_on_commit(user_group(user_id), event)


def send(delivery: Delivery) -> None:
    note = delivery.notification
    user = note.user
    if delivery.channel == Channel.IN_SITE:
        push_unread(user.pk, notification=note)
        return
    text = f"{note.title}：{note.body}" if note.body else note.title
    if delivery.channel == Channel.EMAIL:
        if not user.email:
            raise Undeliverable("no email address")
        send_mail(subject=f"[助农直播] {note.title}", message=note.body or note.title, from_email=None,
                  recipient_list=[user.email])
        return
    if delivery.channel == Channel.SMS:
        if not user.phone:
            raise Undeliverable("no phone number")
        sms_provider().send(phone=user.phone, text=f"【助农直播】{text}")
        return
    raise Undeliverable(f"unknown channel {delivery.channel}")


def retryable(qs):  # noqa: ANN001, ANN201
    return qs.filter(Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.FAILED))
