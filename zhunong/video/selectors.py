"""Reads for video: what a player should show, ingest health for hosts and operators, replays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, region_q
from zhunong.live.models import Stream, StreamStatus

from .conf import video_settings
from .errors import ReplayNotFound
from .media import hls_url, replay_media_url
from .models import Chapter, Ingest, IngestState, RefusedPublish, Replay, ReplayStatus

ENDED_STREAM = {StreamStatus.ENDED, StreamStatus.CANCELLED}


def player_state_for(stream: Stream, ingest: Ingest | None) -> str:
    """What a viewer sees: upcoming ("starting soon"), live, reconnecting or ended."""
    if stream.status in ENDED_STREAM or (ingest is not None and ingest.state == IngestState.STOPPED):
        return "ended"
    if ingest is not None and ingest.state == IngestState.PUBLISHING:
        return "live"
    if ingest is not None and ingest.state == IngestState.RECONNECTING:
        return "reconnecting"
    return "upcoming"


def in_publish_window(stream: Stream, now: dt.datetime) -> bool:
    """A host may start publishing a little before the planned start and until a little after the end."""
    s = video_settings()
    opens = stream.planned_start - dt.timedelta(minutes=s.publish_early_minutes)
    closes = stream.planned_end + dt.timedelta(minutes=s.publish_late_minutes)
    return opens <= now <= closes


def streams() -> QuerySet[Stream]:
    """Streams with what the video pages and permission checks read (host, channel's county)."""
    return Stream.objects.select_related("host__user", "channel__county")


def replays_to_build() -> list[int]:
    """Pending replays and failed ones (`zhunong media replays` builds them again)."""
    return list(Replay.objects.filter(status__in=[ReplayStatus.PENDING, ReplayStatus.FAILED])
                .values_list("pk", flat=True))


def ingest_of(stream: Stream) -> Ingest | None:
    return Ingest.objects.filter(stream=stream).select_related("current").first()


@dataclass(frozen=True)
class Playback:
    stream_id: int
    state: str  # upcoming | live | reconnecting | ended
    hls_url: str | None
    replay_id: int | None

    def as_dict(self) -> dict:
        return {"stream_id": self.stream_id, "state": self.state, "hls_url": self.hls_url,
                "replay_url": f"/replays/{self.replay_id}/" if self.replay_id else None}


def playback(stream: Stream) -> Playback:
    ingest = ingest_of(stream)
    state = player_state_for(stream, ingest)
    # The playlist is named after the stream id (never the key); offered while a publisher is or was just on.
    url = hls_url(str(stream.pk)) if state in ("live", "reconnecting") else None
    replay_id = Replay.objects.filter(stream=stream, status=ReplayStatus.READY).values_list("pk", flat=True).first()
    return Playback(stream_id=stream.pk, state=state, hls_url=url, replay_id=replay_id)


def ingests_for_operator(user: User, *, active_only: bool = True) -> QuerySet[Ingest]:
    qs = Ingest.objects.select_related("stream", "stream__host__user", "stream__channel", "current")
    if active_only:
        qs = qs.filter(state__in=[IngestState.PUBLISHING, IngestState.RECONNECTING])
    if not policy.can(user, "live.operate"):
        return qs.none()
    q = region_q(user, "stream__channel__county")
    return (qs.filter(q) if q is not None else qs).order_by("stream__planned_start", "id")


def refusals_for_operator(user: User, *, limit: int = 50) -> list[RefusedPublish]:
    if not policy.can(user, "live.operate"):
        return []
    qs = RefusedPublish.objects.select_related("stream")
    if not is_platform_admin(user):
        # Refusals without a known stream (unknown keys, strangers) are for platform admins only.
        q = region_q(user, "stream__channel__county")
        qs = qs.filter(stream__isnull=False).filter(q) if q is not None else qs
    return list(qs[:limit])


def replays_ready() -> QuerySet[Replay]:
    return (Replay.objects.filter(status=ReplayStatus.READY)
            .select_related("stream", "stream__host__user", "stream__channel")
            .prefetch_related(Prefetch("chapters", queryset=Chapter.objects.select_related("product")))
            .order_by("-stream__ended_at", "-id"))


def replay_detail(replay_id: int) -> Replay:
    replay = replays_ready().filter(pk=replay_id).first()
    if replay is None:
        raise ReplayNotFound()
    return replay


def replay_urls(replay: Replay) -> dict[str, str]:
    return {"video": replay_media_url(replay.video_path), "cover": replay_media_url(replay.cover_path)}


def chapters_json(replay: Replay) -> list[dict]:
    """For the replay page's shelf: which product was shown from when to when."""
    return [
        {"id": c.pk, "product_id": c.product_id, "name": c.product.name, "price": str(c.product.price),
         "start": c.start_s, "end": c.end_s}
        for c in replay.chapters.all()
    ]
