"""Video API: what a player should play, the host's stream key, ingest health, replays with chapters."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema
from pydantic import Field

from zhunong.accounts import policy
from zhunong.accounts.api import Id
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.live.errors import StreamNotFound
from zhunong.live.models import Stream

from . import selectors, services
from .conf import video_settings
from .errors import NoIngest, NotStreamHost, ReplayNotFound

router = Router(tags=["video"])


def _stream(stream_id: int) -> Stream:
    stream = selectors.streams().filter(pk=stream_id).first()
    if stream is None:
        raise StreamNotFound()
    return stream


class PlaybackOut(Schema):
    stream_id: int
    state: str = Field(description="upcoming (starting soon) | live | reconnecting | ended")
    hls_url: str | None = Field(description="HLS playlist, named by the stream id; null unless live/reconnecting.")
    replay_url: str | None = Field(description="The replay page once the replay is ready.")


class StreamKeyOut(Schema):
    rtmp_url: str = Field(description="Server URL for OBS / the phone app.")
    stream_key: str = Field(description="Secret: whoever has it can broadcast as this stream. Rotate if leaked.")
    key_created_at: dt.datetime
    obs: dict = Field(description="Recommended encoder settings.")


class IngestOut(Schema):
    stream_id: int
    state: str = Field(description="idle | publishing | reconnecting | stopped")
    state_changed_at: dt.datetime | None
    grace_until: dt.datetime | None
    bitrate_kbps: int | None
    video_kbps: int | None
    audio_kbps: int | None
    width: int | None
    height: int | None
    fps: int | None
    video_codec: str
    audio_codec: str
    dropped_frames: int | None
    stats_at: dt.datetime | None


class ChapterOut(Schema):
    product_id: int
    name: str
    price: str
    start: float = Field(description="Seconds from the replay's start.")
    end: float


class ReplayOut(Schema):
    id: int
    stream_id: int
    title: str
    video_url: str
    cover_url: str
    duration_s: float | None
    ended_at: dt.datetime | None
    chapters: list[ChapterOut]


class ReplayPage(Schema):
    count: int
    items: list[ReplayOut]


def _obs() -> dict:
    s = video_settings()
    return {"keyframe_interval_s": s.hls_fragment, "rate_control": "CBR", "video_bitrate_kbps": 2500,
            "audio_bitrate_kbps": 128, "resolution": "1280x720", "fps": 25, "profile": "main",
            "tune": "zerolatency"}


def _ingest_out(ingest) -> dict:  # noqa: ANN001
    fields = ["state", "state_changed_at", "grace_until", "bitrate_kbps", "video_kbps", "audio_kbps", "width",
              "height", "fps", "video_codec", "audio_codec", "dropped_frames", "stats_at"]
    return {"stream_id": ingest.stream_id, **{f: getattr(ingest, f) for f in fields}}


def _replay_out(replay) -> dict:  # noqa: ANN001
    urls = selectors.replay_urls(replay)
    return {"id": replay.pk, "stream_id": replay.stream_id, "title": replay.stream.title, "video_url": urls["video"],
            "cover_url": urls["cover"], "duration_s": replay.duration_s, "ended_at": replay.stream.ended_at,
            "chapters": selectors.chapters_json(replay)}


@router.get("/video/streams/{stream_id}/playback", response=responses({200: PlaybackOut}, StreamNotFound),
            auth=None)
def playback(request, stream_id: Id):  # noqa: ANN001, ANN201
    """Player state and playlist URL; the room page polls this."""
    return selectors.playback(_stream(stream_id)).as_dict()


@router.get("/video/streams/{stream_id}/key", response=responses({200: StreamKeyOut}, StreamNotFound, NotStreamHost),
            auth=auth_required)
def stream_key(request, stream_id: Id):  # noqa: ANN001, ANN201
    """The stream's RTMP URL and secret key — for the stream's own host only."""
    ingest = services.host_ingest(stream=_stream(stream_id), actor=request.auth)
    return {"rtmp_url": video_settings().public_rtmp_url, "stream_key": ingest.stream_key,
            "key_created_at": ingest.key_created_at, "obs": _obs()}


@router.post("/video/streams/{stream_id}/key/rotate",
             response=responses({200: StreamKeyOut}, StreamNotFound, NotStreamHost), auth=auth_required)
def rotate_stream_key(request, stream_id: Id):  # noqa: ANN001, ANN201
    """A new key; the old one stops working at once and a publisher using it is dropped."""
    ingest = services.rotate_key(stream=_stream(stream_id), actor=request.auth)
    return {"rtmp_url": video_settings().public_rtmp_url, "stream_key": ingest.stream_key,
            "key_created_at": ingest.key_created_at, "obs": _obs()}


@router.get("/video/streams/{stream_id}/ingest", response=responses({200: IngestOut}, StreamNotFound, PermissionDenied,
                                                                   NoIngest),
            auth=auth_required)
def ingest_status(request, stream_id: Id):  # noqa: ANN001, ANN201
    """Publisher state and health, for the host and operators (never the key)."""
    stream = _stream(stream_id)
    if not policy.can(request.auth, "stream.moderate", stream):
        raise PermissionDenied("Only the host and the county's operators see this stream's ingest.")
    ingest = selectors.ingest_of(stream)
    if ingest is None:
        raise NoIngest("This stream has no video ingest yet.")
    return _ingest_out(ingest)


@router.get("/video/replays", response=responses({200: ReplayPage}), auth=None)
def replays(request, limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=100_000)):  # noqa: ANN001, ANN201, B008
    qs = selectors.replays_ready()
    return {"count": qs.count(), "items": [_replay_out(r) for r in qs[offset:offset + limit]]}


@router.get("/video/replays/{replay_id}", response=responses({200: ReplayOut}, ReplayNotFound), auth=None)
def replay(request, replay_id: Id):  # noqa: ANN001, ANN201
    return _replay_out(selectors.replay_detail(replay_id))
