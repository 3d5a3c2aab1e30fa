"""Writes for video: stream keys, the media server's callbacks, ingest health, recordings and replays.

The ingest machine (one table, below) follows the publisher as nginx-rtmp reports it:

    idle ──on_publish (key ok)──▶ publishing ──on_publish_done──▶ reconnecting ──grace expired──▶ stopped
                                       ▲                               │
                                       └────── on_publish (same key) ──┘

Going live and ending are the live app's services (`start_stream` / `end_stream`); this module calls them
when the first publisher is accepted and when the grace period runs out, so a phone that drops for a few
seconds does not end the stream. The replay machine: pending → processing → ready | failed → purged.

The secret key is only ever compared by digest and never written to a log line or an error message.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.audit import record_action
from zhunong.core.errors import DomainError
from zhunong.core.events import publish_room_event
from zhunong.core.statemachine import TransitionTable
from zhunong.live import streams as live_streams
from zhunong.live.errors import HostNotVerified
from zhunong.live.hooks import held_streams
from zhunong.live.models import Pin, Stream, StreamStatus

from . import signals
from .conf import video_settings
from .errors import (
    AlreadyPublishing,
    InvalidRecordingPath,
    MalformedCallback,
    NotScheduledNow,
    NotStreamHost,
    RetiredKeyUsed,
    StreamEnded,
    UnknownKey,
    WrongApp,
)
from .media import StreamStats, drop_publisher
from .models import (
    KEY_PREFIX,
    Chapter,
    Connection,
    Ingest,
    IngestState,
    IngestTransition,
    Recording,
    RefusedPublish,
    Replay,
    ReplayStatus,
    ReplayTransition,
    RetiredKey,
    key_digest,
)
from .selectors import ENDED_STREAM, in_publish_window, player_state_for

log = logging.getLogger("zhunong.video")

I = IngestState  # noqa: E741
INGEST = TransitionTable(
    "ingest",
    {
        I.IDLE: {I.PUBLISHING, I.STOPPED},
        I.PUBLISHING: {I.RECONNECTING, I.STOPPED},
        I.RECONNECTING: {I.PUBLISHING, I.STOPPED},
        I.STOPPED: set(),
    },
)

R = ReplayStatus
REPLAY = TransitionTable(
    "replay",
    {
        R.PENDING: {R.PROCESSING, R.PURGED},
        R.PROCESSING: {R.READY, R.FAILED},
        R.READY: {R.PURGED},
        R.FAILED: {R.PROCESSING, R.PURGED},
        R.PURGED: set(),
    },
)

# A recording is registered a moment after its publisher leaves; the replay waits this long for it.
REPLAY_DELAY_SECONDS = 5


# --- stream keys -------------------------------------------------------------------------------------------

def new_stream_key() -> str:
    # The fixed prefix lets the log filter (redact.py) recognise and blank any key that slips into a message.
    return KEY_PREFIX + secrets.token_urlsafe(24)


@transaction.atomic
def ensure_ingest(*, stream: Stream) -> Ingest:
    """The stream's ingest, created with a fresh key the first time anyone needs it."""
    ingest = Ingest.objects.filter(stream=stream).first()
    if ingest is not None:
        return ingest
    key = new_stream_key()
    ingest, _created = Ingest.objects.get_or_create(
        stream=stream,
        defaults={"stream_key": key, "key_digest": key_digest(key), "key_created_at": timezone.now()},
    )
    return ingest


def _require_host(stream: Stream, user: User | None) -> None:
    if user is None or not user.is_authenticated or stream.host.user_id != user.pk:
        raise NotStreamHost()


@transaction.atomic
def host_ingest(*, stream: Stream, actor: User) -> Ingest:
    """The ingest with its key, for the stream's own host only."""
    _require_host(stream, actor)
    return ensure_ingest(stream=stream)


@transaction.atomic
def rotate_key(*, stream: Stream, actor: User) -> Ingest:
    """Give the stream a new key; the old one stops working at once and a publisher using it is dropped."""
    _require_host(stream, actor)
    ensure_ingest(stream=stream)
    ingest = Ingest.objects.select_for_update().get(stream=stream)
    RetiredKey.objects.create(ingest=ingest, key_digest=ingest.key_digest, retired_by=actor)
    old_digest = ingest.key_digest
    key = new_stream_key()
    ingest.stream_key, ingest.key_digest, ingest.key_created_at = key, key_digest(key), timezone.now()
    ingest.save(update_fields=["stream_key", "key_digest", "key_created_at"])
    # The log names the keys by the start of their SHA-256 digests, never the keys.
    record_action(actor=actor, action="live.stream_key_rotated", subject=stream,
                  before={"key_digest": old_digest[:12]}, after={"key_digest": ingest.key_digest[:12]})
    log.info("stream key rotated for stream %s by user %s", stream.pk, actor.pk)
    if ingest.state == I.PUBLISHING:
        _drop_publisher_on_commit(ingest)
    return ingest


# --- media server callbacks -----------------------------------------------------------------------------------

_APP_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NAME_RE = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII: what RTMP clients send as a stream name
_CLIENT_RE = re.compile(r"^\d{1,18}$")
_CALLS = {"publish", "publish_done", "update_publish", "update_play", "record_done", "done"}


@dataclass(frozen=True)
class Callback:
    """A parsed nginx-rtmp notify callback (form fields: call, app, name, clientid, addr, ...)."""

    call: str
    app: str
    name: str
    client_id: str
    addr: str
    encoder: str
    path: str

    @property
    def is_relay(self) -> bool:
        # nginx's own relay sessions (the push from ingest to live) report an empty app.
        return self.app == "" and self.encoder == "ngx-local-relay"


def parse_callback(data: Mapping[str, list[str]], *, calls: Iterable[str]) -> Callback:
    """Strictly parse a callback body; anything unexpected is malformed (and refused).

    `data` maps each field to all its values (QueryDict.lists()): a field given twice, e.g. a `name` smuggled
    in through the publish URL's query string, is refused rather than resolved either way.
    """
    fields: dict[str, str] = {}
    for key, values in data.items():
        if len(values) != 1:
            raise MalformedCallback(details={"field": key[:40], "problem": "repeated"})
        fields[key] = values[0]
    call = fields.get("call", "")
    if call not in _CALLS or call not in set(calls):
        raise MalformedCallback(details={"field": "call"})
    app = fields.get("app", "")
    name = fields.get("name", "")
    client_id = fields.get("clientid", "")
    addr = fields.get("addr", "")
    encoder = fields.get("flashver", "")
    path = fields.get("path", "")
    if not _CLIENT_RE.fullmatch(client_id):
        raise MalformedCallback(details={"field": "clientid"})
    is_relay = app == "" and encoder == "ngx-local-relay"
    if not is_relay and not _APP_RE.fullmatch(app):
        raise MalformedCallback(details={"field": "app"})
    if not _NAME_RE.fullmatch(name):
        raise MalformedCallback(details={"field": "name"})
    if len(addr) > 64 or len(encoder) > 120 or len(path) > 1024:
        raise MalformedCallback(details={"field": "length"})
    if any(ch in s for s in (addr, encoder, path) for ch in "\x00\r\n"):
        raise MalformedCallback(details={"field": "control_characters"})
    if call == "record_done" and not path:
        raise MalformedCallback(details={"field": "path"})
    return Callback(call=call, app=app, name=name, client_id=client_id, addr=addr, encoder=encoder, path=path)


def _transition(ingest: Ingest, target: str, *, client_id: str = "", reason: str = "",
                now: dt.datetime | None = None) -> None:
    INGEST.check(ingest.state, target)
    IngestTransition.objects.create(ingest=ingest, from_state=ingest.state, to_state=target,
                                    client_id=client_id, reason=reason[:300])
    ingest.state = target
    ingest.state_changed_at = now or timezone.now()
    publish_room_event(ingest.stream_id, {"t": "video", "state": player_state_for(ingest.stream, ingest)})


def _lookup_key(name: str) -> Ingest:
    digest = key_digest(name)
    ingest = Ingest.objects.select_for_update().filter(key_digest=digest).first()
    if ingest is not None:
        return ingest
    retired = RetiredKey.objects.filter(key_digest=digest).values_list("ingest__stream_id", flat=True).first()
    if retired is not None:
        raise RetiredKeyUsed(details={"stream": retired})
    raise UnknownKey()


@transaction.atomic
def authorize_publish(*, callback: Callback, now: dt.datetime | None = None) -> Connection:
    """on_publish: allow the publisher (the caller answers 3xx, renaming the stream to its id) or raise."""
    now = now or timezone.now()
    if callback.call != "publish":
        raise MalformedCallback(details={"field": "call"})
    if callback.app != video_settings().ingest_app:
        raise WrongApp(details={"app": callback.app})
    ingest = _lookup_key(callback.name)
    stream = Stream.objects.select_for_update().select_related("host").get(pk=ingest.stream_id)
    ingest.stream = stream
    details = {"stream": stream.pk}
    if stream.status in ENDED_STREAM or ingest.state == I.STOPPED:
        raise StreamEnded(details=details)
    if not stream.host.is_verified:
        raise HostNotVerified(details=details)
    if stream.status != StreamStatus.LIVE and not in_publish_window(stream, now):
        raise NotScheduledNow(details=details)
    if ingest.state == I.PUBLISHING and ingest.current_id is not None:
        current = Connection.objects.get(pk=ingest.current_id)
        if current.client_id == callback.client_id and current.ended_at is None:
            return current  # the same connection asking twice
        raise AlreadyPublishing(details=details)
    connection = Connection.objects.create(
        ingest=ingest, client_id=callback.client_id, key_digest=ingest.key_digest, addr=callback.addr,
        encoder=callback.encoder, started_at=now, last_seen_at=now,
    )
    reconnect = ingest.state == I.RECONNECTING
    ingest.current = connection
    ingest.grace_until = None
    _transition(ingest, I.PUBLISHING, client_id=callback.client_id,
                reason="publisher reconnected" if reconnect else "publisher connected", now=now)
    ingest.save(update_fields=["state", "state_changed_at", "current", "grace_until"])
    if stream.status == StreamStatus.SCHEDULED:
        live_streams.start_stream(stream=stream, actor=None)
    log.info("publish accepted: stream %s client %s from %s%s", stream.pk, callback.client_id,
             callback.addr, " (reconnect)" if reconnect else "")
    return connection


def record_refusal(*, error: DomainError, call: str = "", source_addr: str = "", publisher_addr: str = "",
                   app: str = "") -> None:
    """Log and keep a refused callback for the operator page. Never records the stream name (the key)."""
    stream_id = error.details.get("stream") if isinstance(error.details, dict) else None
    log.warning("media callback refused: %s call=%s source=%s publisher=%s app=%s stream=%s", error.code,
                call[:40], source_addr[:64], publisher_addr[:64], app[:64], stream_id)
    try:
        with transaction.atomic():
            RefusedPublish.objects.create(
                code=error.code[:40], call=call[:40], source_addr=source_addr[:64], publisher_addr=publisher_addr[:64],
                app=app[:64], stream_id=stream_id if Stream.objects.filter(pk=stream_id).exists() else None,
            )
    except Exception:  # the refusal itself already happened; a failed audit row must not turn it into a 500
        log.exception("could not store the refused callback")


def _open_connection(callback: Callback) -> Connection | None:
    return (Connection.objects.select_for_update()
            .filter(client_id=callback.client_id, key_digest=key_digest(callback.name), ended_at__isnull=True)
            .order_by("-started_at", "-id").first())


@transaction.atomic
def publisher_gone(*, callback: Callback, now: dt.datetime | None = None, reason: str = "publisher left") -> Ingest | None:
    """on_publish_done: start the reconnect grace period (or stop at once when there is none)."""
    now = now or timezone.now()
    connection = _open_connection(callback)
    if connection is None:
        # e.g. the refused second publisher on a key, which nginx still reports when it leaves.
        log.info("publish_done for unknown client %s ignored", callback.client_id)
        return None
    return _close_connection(connection, now=now, reason=reason)


def _close_connection(connection: Connection, *, now: dt.datetime, reason: str) -> Ingest:
    connection.ended_at = now
    connection.end_reason = reason[:120]
    connection.save(update_fields=["ended_at", "end_reason"])
    ingest = Ingest.objects.select_for_update().select_related("stream").get(pk=connection.ingest_id)
    if ingest.current_id != connection.pk or ingest.state != I.PUBLISHING:
        return ingest
    grace = video_settings().grace_seconds
    if grace <= 0:
        _stop(ingest, now=now, reason=f"{reason}; no grace period", end_live=True)
        return ingest
    ingest.grace_until = now + dt.timedelta(seconds=grace)
    _transition(ingest, I.RECONNECTING, client_id=connection.client_id, reason=reason, now=now)
    ingest.save(update_fields=["state", "state_changed_at", "grace_until"])
    log.info("stream %s publisher gone (%s); reconnect grace %ss", ingest.stream_id, reason, grace)
    ingest_id = ingest.pk

    def schedule() -> None:
        try:
            signals.reconnect_grace_started.send(sender=Ingest, ingest_id=ingest_id, delay=grace + 1)
        except Exception:  # the media monitor and the periodic sweep end it anyway
            log.exception("could not schedule the grace expiry for ingest %s", ingest_id)

    transaction.on_commit(schedule)
    return ingest


@transaction.atomic
def check_update(*, callback: Callback, now: dt.datetime | None = None) -> None:
    """on_update (every few seconds per publisher): raise to make nginx drop a publisher that must stop."""
    now = now or timezone.now()
    if callback.call == "update_play":
        if callback.is_relay:
            return  # nginx's internal push from ingest to live: answering non-2xx would cut the video
        raise MalformedCallback(details={"field": "call"})  # nobody plays from the ingest application
    if callback.app != video_settings().ingest_app:
        raise WrongApp(details={"app": callback.app})
    connection = _open_connection(callback)
    if connection is None:
        raise UnknownKey()
    ingest = Ingest.objects.select_related("stream").get(pk=connection.ingest_id)
    details = {"stream": ingest.stream_id}
    if connection.key_digest != ingest.key_digest:
        raise RetiredKeyUsed(details=details)
    if ingest.state == I.STOPPED or ingest.stream.status in ENDED_STREAM:
        raise StreamEnded(details=details)
    if ingest.current_id != connection.pk:
        raise AlreadyPublishing(details=details)
    Connection.objects.filter(pk=connection.pk).update(last_seen_at=now)


_RECORD_NAME = re.compile(r"^(\d{1,18})-(\d{1,12})\.flv$")


@transaction.atomic
def register_recording(*, callback: Callback, now: dt.datetime | None = None) -> Recording | None:
    """on_record_done: remember the finished FLV (inside the record directory, named by the stream id)."""
    now = now or timezone.now()
    record_dir = video_settings().record_dir.resolve()
    raw = Path(callback.path)
    if not raw.is_absolute():
        raise InvalidRecordingPath()
    path = raw.resolve()
    if record_dir not in path.parents:
        raise InvalidRecordingPath()
    match = _RECORD_NAME.fullmatch(path.name)
    if not match:
        raise InvalidRecordingPath()
    connection = (Connection.objects.filter(client_id=callback.client_id, key_digest=key_digest(callback.name))
                  .select_related("ingest").order_by("-started_at", "-id").first())
    if connection is None:
        log.info("record_done for unknown client %s ignored", callback.client_id)
        return None
    if int(match.group(1)) != connection.ingest.stream_id:
        raise InvalidRecordingPath(details={"stream": connection.ingest.stream_id})
    size = path.stat().st_size if path.is_file() else 0
    if size == 0:
        return None  # nothing was recorded (e.g. a refused publisher); the purge removes empty files
    recording, _created = Recording.objects.get_or_create(
        path=str(path.relative_to(record_dir)),
        defaults={"stream_id": connection.ingest.stream_id, "connection": connection, "size_bytes": size,
                  "started_at": connection.started_at},
    )
    if not _created and recording.size_bytes != size:
        Recording.objects.filter(pk=recording.pk).update(size_bytes=size)
    return recording


# --- stopping ---------------------------------------------------------------------------------------------

def _drop_publisher_on_commit(ingest: Ingest) -> None:
    name = ingest.public_name

    def drop() -> None:
        drop_publisher(name)

    transaction.on_commit(drop)


def _stop(ingest: Ingest, *, now: dt.datetime, reason: str, end_live: bool, actor: User | None = None) -> None:
    was_publishing = ingest.state == I.PUBLISHING
    _transition(ingest, I.STOPPED, reason=reason, now=now)
    ingest.grace_until = None
    ingest.current = None
    ingest.save(update_fields=["state", "state_changed_at", "grace_until", "current"])
    if was_publishing:
        for connection in Connection.objects.select_for_update().filter(ingest=ingest, ended_at__isnull=True):
            connection.ended_at, connection.end_reason = now, "stream stopped"
            connection.save(update_fields=["ended_at", "end_reason"])
        _drop_publisher_on_commit(ingest)
    stream = Stream.objects.select_for_update().get(pk=ingest.stream_id)
    if end_live and stream.status == StreamStatus.LIVE:
        live_streams.end_stream(stream=stream, actor=actor, reason=reason[:300])
    queue_replay(stream=stream)
    log.info("stream %s ingest stopped: %s", ingest.stream_id, reason)


@transaction.atomic
def expire_grace(*, ingest_id: int, now: dt.datetime | None = None) -> bool:
    """End the stream if its publisher did not come back within the grace period. True if it ended."""
    now = now or timezone.now()
    ingest = Ingest.objects.select_for_update().filter(pk=ingest_id).first()
    if ingest is None or ingest.state != I.RECONNECTING or ingest.grace_until is None or ingest.grace_until > now:
        return False
    grace = video_settings().grace_seconds
    _stop(ingest, now=now, reason=f"publisher did not reconnect within {grace} s", end_live=True)
    return True


def expire_grace_periods(*, now: dt.datetime | None = None) -> list[int]:
    """Sweep: every ingest whose grace period is over. Returns the stream ids that ended."""
    now = now or timezone.now()
    ended = []
    for ingest_id, stream_id in Ingest.objects.filter(state=I.RECONNECTING, grace_until__lte=now).values_list(
            "pk", "stream_id"):
        if expire_grace(ingest_id=ingest_id, now=now):
            ended.append(stream_id)
    return ended


@transaction.atomic
def stop_for_ended_stream(*, ingest_id: int, now: dt.datetime | None = None) -> bool:
    """The live app ended or cancelled the stream (host or operator): stop ingest and drop the publisher."""
    now = now or timezone.now()
    ingest = Ingest.objects.select_for_update().select_related("stream").filter(pk=ingest_id).first()
    if ingest is None or ingest.state == I.STOPPED or ingest.stream.status not in ENDED_STREAM:
        return False
    _stop(ingest, now=now, reason=f"stream {ingest.stream.status}", end_live=False)
    return True


def stop_ended_streams(*, now: dt.datetime | None = None) -> list[int]:
    stopped = []
    for ingest_id, stream_id in (Ingest.objects.exclude(state=I.STOPPED)
                                 .filter(stream__status__in=list(ENDED_STREAM)).values_list("pk", "stream_id")):
        if stop_for_ended_stream(ingest_id=ingest_id, now=now):
            stopped.append(stream_id)
    return stopped


# --- health from the stat page ----------------------------------------------------------------------------------

# A publisher missing from the stat page for this long is gone even if nginx's callback was lost.
STAT_MISSING_SECONDS = 20


def apply_stats(*, stats: Iterable[StreamStats], now: dt.datetime | None = None) -> int:
    """Store the latest health figures of publishing ingests; treat long-missing publishers as gone."""
    now = now or timezone.now()
    ingest_app = video_settings().ingest_app
    by_name = {s.name: s for s in stats if s.app == ingest_app and s.client_id is not None}
    updated = 0
    for ingest in Ingest.objects.filter(state=I.PUBLISHING).select_related("current"):
        stat = by_name.get(ingest.public_name)
        if stat is None:
            current = ingest.current
            if current is not None and (now - current.last_seen_at).total_seconds() > STAT_MISSING_SECONDS \
                    and (now - current.started_at).total_seconds() > STAT_MISSING_SECONDS:
                with transaction.atomic():
                    connection = Connection.objects.select_for_update().filter(pk=current.pk,
                                                                               ended_at__isnull=True).first()
                    if connection is not None:
                        _close_connection(connection, now=now, reason="publisher missing from the media server")
            continue
        Ingest.objects.filter(pk=ingest.pk, state=I.PUBLISHING).update(
            bitrate_kbps=stat.bitrate_kbps, video_kbps=stat.video_kbps, audio_kbps=stat.audio_kbps,
            width=stat.width, height=stat.height, fps=stat.fps, video_codec=stat.video_codec[:32],
            audio_codec=stat.audio_codec[:32], dropped_frames=stat.dropped_frames, stats_at=now,
        )
        if ingest.current_id:
            Connection.objects.filter(pk=ingest.current_id).update(last_seen_at=now)
        updated += 1
    return updated


@transaction.atomic
def media_server_restarted(*, now: dt.datetime | None = None) -> int:
    """nginx (re)started: every publisher it knew is gone; give each stream its reconnect grace period."""
    now = now or timezone.now()
    count = 0
    for connection in Connection.objects.select_for_update().filter(ended_at__isnull=True):
        _close_connection(connection, now=now, reason="media server restarted")
        count += 1
    return count


# --- replays -----------------------------------------------------------------------------------------------------

def _replay_transition(replay: Replay, target: str, *, reason: str = "") -> None:
    REPLAY.check(replay.status, target)
    ReplayTransition.objects.create(replay=replay, from_status=replay.status, to_status=target, reason=reason[:500])
    replay.status = target


@transaction.atomic
def queue_replay(*, stream: Stream) -> Replay | None:
    """After a stream with video ends: a pending replay, built by a background task."""
    if not Connection.objects.filter(ingest__stream=stream).exists():
        return None
    ended = stream.ended_at or timezone.now()
    replay, created = Replay.objects.get_or_create(
        stream=stream,
        # Never less than three years, whatever the setting says (video.E002 reports a shorter one).
        defaults={"keep_until": ended + dt.timedelta(
            days=max(video_settings().retention_days, live_streams.MIN_RETENTION_DAYS))},
    )
    if created:
        replay_id = replay.pk

        def enqueue() -> None:
            try:
                signals.replay_queued.send(sender=Replay, replay_id=replay_id, delay=REPLAY_DELAY_SECONDS)
            except Exception:  # `zhunong media replays` retries pending replays
                log.exception("could not enqueue replay %s", replay_id)

        transaction.on_commit(enqueue)
    return replay


@dataclass(frozen=True)
class Segment:
    """One recording on the replay timeline: it starts at `wall_start` and plays `offset`..offset+duration."""

    path: str  # relative to the record directory
    wall_start: dt.datetime
    duration: float
    offset: float


@dataclass(frozen=True)
class ChapterSpec:
    pin_id: int | None
    product_id: int
    pinned_at: dt.datetime
    start_s: float
    end_s: float


def to_replay_time(segments: list[Segment], at: dt.datetime) -> float:
    """Wall-clock time → seconds into the replay. Times in a gap between recordings (a reconnect) map to
    the start of the next recording; before the first → 0; after the last → the end."""
    if not segments:
        return 0.0
    for seg in segments:
        delta = (at - seg.wall_start).total_seconds()
        if delta < 0:
            return seg.offset
        if delta <= seg.duration:
            return seg.offset + delta
    last = segments[-1]
    return last.offset + last.duration


def place_pins(segments: list[Segment], pins: Iterable[tuple[int | None, int, dt.datetime, dt.datetime | None]]
               ) -> list[ChapterSpec]:
    """Each pin (id, product id, pinned_at, unpinned_at) becomes a chapter; an open pin lasts to the end."""
    total = segments[-1].offset + segments[-1].duration if segments else 0.0
    chapters = []
    for pin_id, product_id, pinned_at, unpinned_at in pins:
        start = round(to_replay_time(segments, pinned_at), 3)
        end = round(to_replay_time(segments, unpinned_at), 3) if unpinned_at else round(total, 3)
        chapters.append(ChapterSpec(pin_id=pin_id, product_id=product_id, pinned_at=pinned_at, start_s=start,
                                    end_s=max(start, end)))
    chapters.sort(key=lambda c: (c.start_s, c.pinned_at))
    return chapters


@transaction.atomic
def begin_replay(*, replay_id: int) -> tuple[Replay, list[Recording]] | None:
    """pending/failed → processing; returns the recordings to join, or None if there is nothing to do."""
    replay = Replay.objects.select_for_update().filter(pk=replay_id).first()
    if replay is None or replay.status not in (R.PENDING, R.FAILED):
        return None
    recordings = list(Recording.objects.filter(stream_id=replay.stream_id, purged_at__isnull=True,
                                               size_bytes__gt=0).order_by("started_at", "id"))
    _replay_transition(replay, R.PROCESSING, reason=f"{len(recordings)} recording(s)")
    replay.attempts += 1
    replay.save(update_fields=["status", "attempts"])
    return replay, recordings


def recordings_settled(*, stream_id: int) -> bool:
    """All publishers of the stream have left (their recordings are final)."""
    return not Connection.objects.filter(ingest__stream_id=stream_id, ended_at__isnull=True).exists()


@transaction.atomic
def finish_replay(*, replay_id: int, video_path: str, cover_path: str, duration_s: float, size_bytes: int,
                  segments: list[Segment]) -> Replay:
    replay = Replay.objects.select_for_update().get(pk=replay_id)
    pins = Pin.objects.filter(stream_id=replay.stream_id).order_by("pinned_at", "id").values_list(
        "pk", "product_id", "pinned_at", "unpinned_at")
    recorded = segments[-1].offset + segments[-1].duration if segments else 0.0
    replay.chapters.all().delete()
    # The joined file can be a few frames longer than the recordings' sum; a pin open to the end stays so.
    Chapter.objects.bulk_create([
        Chapter(replay=replay, product_id=c.product_id, pin_id=c.pin_id, start_s=min(c.start_s, duration_s),
                end_s=duration_s if c.end_s >= recorded - 0.001 else min(c.end_s, duration_s), pinned_at=c.pinned_at)
        for c in place_pins(segments, pins)
    ])
    for seg in segments:
        Recording.objects.filter(stream_id=replay.stream_id, path=seg.path).update(duration_s=seg.duration)
    replay.video_path, replay.cover_path = video_path, cover_path
    replay.duration_s, replay.size_bytes = duration_s, size_bytes
    replay.error = ""
    replay.ready_at = timezone.now()
    _replay_transition(replay, R.READY, reason=f"{duration_s:.1f} s")
    replay.save()
    return replay


@transaction.atomic
def fail_replay(*, replay_id: int, error: str) -> Replay | None:
    replay = Replay.objects.select_for_update().filter(pk=replay_id).first()
    if replay is None or replay.status != R.PROCESSING:
        return replay
    replay.error = error[:500]
    _replay_transition(replay, R.FAILED, reason=error)
    replay.save(update_fields=["status", "error"])
    log.warning("replay %s failed: %s", replay_id, error[:200])
    return replay


@transaction.atomic
def mark_replay_purged(*, replay_id: int, now: dt.datetime | None = None) -> Replay:
    replay = Replay.objects.select_for_update().get(pk=replay_id)
    now = now or timezone.now()
    _replay_transition(replay, R.PURGED, reason="retention period over")
    replay.purged_at = now
    replay.save(update_fields=["status", "purged_at"])
    Recording.objects.filter(stream_id=replay.stream_id, purged_at__isnull=True).update(purged_at=now)
    return replay


# --- retention ----------------------------------------------------------------------------------------------

# Files nobody registered (e.g. the empty recording of a refused second publisher) are kept this long.
ORPHAN_GRACE = dt.timedelta(days=1)
# Playlists and fragments of a stream that stopped are removed after this long.
HLS_LEFTOVER_AGE = dt.timedelta(hours=1)


@dataclass
class PurgePlan:
    replays: list[int]
    recordings: list[int]
    orphan_files: list[Path]
    hls_files: list[Path]

    def as_dict(self) -> dict:
        return {"replays": self.replays, "recordings": self.recordings,
                "orphan_files": [str(p) for p in self.orphan_files], "hls_files": [str(p) for p in self.hls_files]}


def plan_purge(*, now: dt.datetime | None = None) -> PurgePlan:
    """What the retention rules remove now (replays and recordings past their keep date, stray files)."""
    now = now or timezone.now()
    s = video_settings()
    # VIDEO_RETENTION_DAYS under three years is refused (ValidationFailed), not applied.
    retention = dt.timedelta(days=live_streams.check_retention_days(s.retention_days, field="VIDEO_RETENTION_DAYS"))
    expired_replays = dict(Replay.objects.filter(keep_until__lte=now).exclude(status=R.PURGED)
                           .exclude(status=R.PROCESSING).values_list("pk", "stream_id"))
    expired_recordings = dict(Recording.objects.filter(purged_at__isnull=True)
                              .filter(models_q_recording_expired(now, retention)).values_list("pk", "stream_id"))
    # A stream an open case (complaint, after-sales, pledge claim) is about keeps its video until it closes.
    held = held_streams({*expired_replays.values(), *expired_recordings.values()})
    replays = [pk for pk, stream_id in expired_replays.items() if stream_id not in held]
    recordings = [pk for pk, stream_id in expired_recordings.items() if stream_id not in held]
    known = set(Recording.objects.values_list("path", flat=True))
    orphans = []
    if s.record_dir.is_dir():
        for path in sorted(s.record_dir.glob("*.flv")):
            age = now.timestamp() - path.stat().st_mtime
            if str(path.relative_to(s.record_dir)) not in known and age > ORPHAN_GRACE.total_seconds():
                orphans.append(path)
    hls = []
    if s.hls_dir.is_dir():
        active = {str(i) for i in Ingest.objects.filter(state__in=[I.PUBLISHING, I.RECONNECTING])
                  .values_list("stream_id", flat=True)}
        for path in sorted(s.hls_dir.iterdir()):
            name = path.name.split("-", 1)[0].split(".", 1)[0]
            age = now.timestamp() - path.stat().st_mtime
            if path.is_file() and name not in active and age > HLS_LEFTOVER_AGE.total_seconds():
                hls.append(path)
    return PurgePlan(replays=replays, recordings=recordings, orphan_files=orphans, hls_files=hls)


def models_q_recording_expired(now: dt.datetime, retention: dt.timedelta) -> Q:
    # Recordings go with their replay; those of streams without a replay expire from their own start.
    return Q(stream__replay__keep_until__lte=now) | Q(stream__replay__isnull=True, started_at__lte=now - retention)


def purge(*, dry_run: bool, now: dt.datetime | None = None) -> PurgePlan:
    """Apply the retention rules: delete expired replay and recording files and mark them purged."""
    now = now or timezone.now()
    plan = plan_purge(now=now)
    if dry_run:
        return plan
    s = video_settings()
    for replay_id in plan.replays:
        folder = s.replay_dir / str(replay_id)
        if folder.is_dir():
            shutil.rmtree(folder)
        mark_replay_purged(replay_id=replay_id, now=now)
    for rec in Recording.objects.filter(pk__in=plan.recordings):
        (s.record_dir / rec.path).unlink(missing_ok=True)
        Recording.objects.filter(pk=rec.pk).update(purged_at=now)
    for path in [*plan.orphan_files, *plan.hls_files]:
        path.unlink(missing_ok=True)
    log.info("video purge: %s replays, %s recordings, %s stray files", len(plan.replays), len(plan.recordings),
             len(plan.orphan_files) + len(plan.hls_files))
    return plan
