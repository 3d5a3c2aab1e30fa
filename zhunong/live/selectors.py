"""Reads for live rooms: streams by status and for staff, the room's state (pin, restrictions, gifts, the
word list), a stream's full record, and the lookups the pages, the API and the room socket make.
Who may do what is accounts.policy (Channel, Host and Stream give their policy_scope)."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, region_q
from zhunong.catalog.models import ListingStatus, Product

from .errors import StreamNotFound
from .models import (
    Announcement,
    Channel,
    ChatMessage,
    Gift,
    Host,
    ModerationAction,
    Pin,
    Report,
    RoomRestriction,
    SensitiveWord,
    Stream,
    StreamMinute,
    StreamStatus,
    ViewerSession,
)

# The sensitive-word list's version in the shared cache (bumped by moderation on every change).
WORDS_VERSION_KEY = "live:sensitive-words:version"


# --- who is who ----------------------------------------------------------------------------------


def is_authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_stream_host(user: User | None, stream: Stream) -> bool:
    return is_authenticated(user) and stream.host.user_id == user.pk


# --- the room's state ------------------------------------------------------------------------------


def active_restrictions(stream_id: int) -> list[RoomRestriction]:
    now = timezone.now()
    return list(RoomRestriction.objects.filter(stream_id=stream_id, lifted_at__isnull=True)
                .filter(Q(until__isnull=True) | Q(until__gt=now)))


def gifts_offered(stream: Stream) -> list[dict[str, str]]:
    """What the room offers: nothing at all when the host is a public servant (公益直播)."""
    if stream.host.is_public_servant:
        return []
    return [{"kind": k.value, "label": str(k.label)} for k in Gift.Kind]


def words_version() -> int:
    """Bumped on every change of the sensitive-word list, so each process rebuilds its filter."""
    return int(cache.get(WORDS_VERSION_KEY) or 0)


def active_sensitive_words() -> list[tuple[str, str]]:
    return list(SensitiveWord.objects.filter(active=True).values_list("word", "action"))


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


# --- lookups for the pages, the API and the room socket --------------------------------------------


def channels() -> QuerySet[Channel]:
    return Channel.objects.select_related("county").order_by("id")


def hosts() -> QuerySet[Host]:
    return Host.objects.select_related("channel__county")


def channel_hosts(channel: Channel) -> QuerySet[Host]:
    return channel.hosts.select_related("user").order_by("id")


def is_following(user: User, channel: Channel) -> bool:
    return user.is_authenticated and channel.followers.filter(pk=user.pk).exists()


def has_host_profile(user: User) -> bool:
    return Host.objects.filter(user=user).exists()


def streams_with_status(status: str) -> QuerySet[Stream]:
    return Stream.objects.filter(status=status).select_related("host__user", "channel").order_by("-planned_start")


def stream_for_room(stream_id: int) -> Stream | None:
    return Stream.objects.select_related("host__user", "channel__county").filter(pk=stream_id).first()


def shelf(stream: Stream) -> QuerySet[Product]:
    """The stream's products that are still listed, as the room and the console show them."""
    return stream.products.filter(status=ListingStatus.LISTED).order_by("pk")


def open_reports(stream: Stream, limit: int = 50) -> list[Report]:
    return list(stream.reports.filter(status=Report.Status.OPEN).select_related("reporter", "message")[:limit])


def reports_with_stream() -> QuerySet[Report]:
    return Report.objects.select_related("stream")


def minute_series(stream: Stream) -> QuerySet[StreamMinute]:
    return StreamMinute.objects.filter(stream=stream).order_by("minute")


def viewer_keys(stream_id: int) -> list[str]:
    return list(ViewerSession.objects.filter(stream_id=stream_id).values_list("viewer_key", flat=True))


def user_by_id(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_by_username(username: str) -> User | None:
    return User.objects.filter(username__iexact=username.strip()).first()


def product_by_id(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()


def products_by_ids(product_ids: list[int]) -> list[Product]:
    return list(Product.objects.filter(pk__in=product_ids))
