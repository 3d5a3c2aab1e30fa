"""Reads for live rooms: streams by status, the current pin, a stream's full record."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, region_q

from .errors import StreamNotFound
from .models import (
    Announcement,
    Channel,
    ChatMessage,
    Host,
    ModerationAction,
    Pin,
    Report,
    Stream,
    StreamMinute,
    StreamStatus,
)


def current_pin(stream: Stream) -> Pin | None:
    """The product on top of the shelf right now, if any (the video helper turns pins into chapters)."""
    return (Pin.objects.select_related("product").filter(stream=stream, unpinned_at__isnull=True)
            .order_by("-pinned_at").first())


def pins(stream: Stream) -> QuerySet[Pin]:
    return Pin.objects.select_related("product").filter(stream=stream).order_by("pinned_at", "id")


def get_stream(stream_id: object) -> Stream:
    try:
        return Stream.objects.select_related("host__user", "channel__county").get(pk=int(stream_id))
    except (Stream.DoesNotExist, ValueError, TypeError, OverflowError):
        raise StreamNotFound()


def live_streams() -> QuerySet[Stream]:
    return (Stream.objects.filter(status=StreamStatus.LIVE).select_related("host__user", "channel")
            .order_by("-started_at", "id"))


def upcoming_streams(*, channel: Channel | None = None) -> QuerySet[Stream]:
    qs = (Stream.objects.filter(status=StreamStatus.SCHEDULED, planned_end__gte=timezone.now())
          .select_related("host__user", "channel").order_by("planned_start", "id"))
    return qs.filter(channel=channel) if channel is not None else qs


def ended_streams() -> QuerySet[Stream]:
    return (Stream.objects.filter(status=StreamStatus.ENDED).select_related("host__user", "channel")
            .order_by("-ended_at", "id"))


def streams_for_staff(user: User) -> QuerySet[Stream]:
    """Streams an operator manages (their region) or a host runs."""
    qs = Stream.objects.select_related("host__user", "channel__county").order_by("-planned_start", "-id")
    if not user.is_authenticated:
        return qs.none()
    if is_platform_admin(user):
        return qs
    q = Q(host__user=user)
    region = region_q(user, "channel__county") if user.has_role("county_operator") else None
    if region is not None:
        q |= region
    return qs.filter(q)


def hosts_for_staff(user: User) -> QuerySet[Host]:
    qs = Host.objects.select_related("user", "channel__county", "verified_by").order_by("channel", "id")
    if is_platform_admin(user):
        return qs
    if not user.has_role("county_operator"):
        return qs.none()
    q = region_q(user, "channel__county")
    return qs.filter(q) if q is not None else qs


def channels_for_staff(user: User) -> QuerySet[Channel]:
    qs = Channel.objects.select_related("county").order_by("id")
    if is_platform_admin(user):
        return qs
    if not user.has_role("county_operator"):
        return qs.none()
    q = region_q(user, "county")
    return qs.filter(q) if q is not None else qs


def recent_chat(stream_id: int, limit: int = 30) -> list[ChatMessage]:
    rows = list(ChatMessage.objects.filter(stream_id=stream_id, status=ChatMessage.Status.SHOWN)
                .order_by("-created_at", "-id")[:limit])
    rows.reverse()
    return rows


def latest_announcement(stream_id: int) -> Announcement | None:
    return Announcement.objects.filter(stream_id=stream_id).order_by("-created_at", "-id").first()


def stream_record(stream: Stream) -> dict[str, QuerySet]:
    """Everything the room stored about a stream, for the console's record tab and audits."""
    return {
        "chat": ChatMessage.objects.filter(stream=stream).select_related("deleted_by").order_by("created_at", "id"),
        "pins": pins(stream),
        "announcements": Announcement.objects.filter(stream=stream).select_related("author"),
        "moderation": ModerationAction.objects.filter(stream=stream).select_related("actor", "target_user"),
        "reports": Report.objects.filter(stream=stream).select_related("reporter", "target_user", "message"),
        "minutes": StreamMinute.objects.filter(stream=stream).order_by("minute"),
        "history": stream.history.select_related("actor").order_by("at", "id"),
    }
