"""Reads: a user's notifications and unread count, their follows, and the "following" page's streams."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.live.models import Channel, Host, Stream, StreamStatus

from .kinds import DEFAULT_CHANNELS, Kind
from .models import HostFollow, Notification, NotificationPreference, StreamReminder


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, in_site=True).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return notifications_of(user).filter(read_at__isnull=True).count()


def booked_stream_ids(user: User, stream_ids: list[int] | None = None) -> set[int]:
    """The streams (of `stream_ids`, or all) the user has booked (预约)."""
    if not user.is_authenticated:
        return set()
    qs = StreamReminder.objects.filter(user=user)
    if stream_ids is not None:
        qs = qs.filter(stream_id__in=stream_ids)
    return set(qs.values_list("stream_id", flat=True))


def bookable_streams(stream_ids: list[int]) -> list[Stream]:
    """Of these streams, the scheduled ones (in the given order): those a 预约 button is shown for."""
    found = {s.pk: s for s in Stream.objects.filter(pk__in=stream_ids, status=StreamStatus.SCHEDULED)}
    return [found[i] for i in stream_ids if i in found]


def followed_hosts(user: User) -> QuerySet[Host]:
    return Host.objects.filter(follows__user=user).select_related("user", "channel").order_by("channel__name", "pk")


def followed_channels(user: User) -> QuerySet[Channel]:
    return Channel.objects.filter(followers=user).select_related("county").order_by("name")


@dataclass(frozen=True)
class Following:
    channels: list[Channel]
    hosts: list[Host]
    live: list[Stream]
    upcoming: list[Stream]


def following(user: User, *, upcoming_limit: int = 20) -> Following:
    """Who the user follows, which of their streams are live now and which are scheduled next."""
    host_ids = HostFollow.objects.filter(user=user).values("host_id")
    streams = Stream.objects.filter(Q(channel__followers=user) | Q(host_id__in=host_ids)).select_related(
        "host__user", "channel").distinct()
    live = list(streams.filter(status=StreamStatus.LIVE).order_by("-started_at", "pk"))
    upcoming = list(streams.filter(status=StreamStatus.SCHEDULED, planned_start__gte=timezone.now())
                    .order_by("planned_start", "pk")[:upcoming_limit])
    return Following(channels=list(followed_channels(user)), hosts=list(followed_hosts(user)), live=live,
                     upcoming=upcoming)


def preferences_of(user: User) -> list[tuple[str, str, tuple[str, ...]]]:
    """(kind, label, chosen channels) of every kind, the default where the user has not chosen."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channels"))
    return [(kind, label, tuple(chosen.get(kind, DEFAULT_CHANNELS[kind]))) for kind, label in Kind.choices]
