"""Background jobs (Huey): build replays with ffmpeg, end streams whose reconnect grace ran out.

The services announce what needs following up (signals.py); the receivers below schedule the jobs and
are connected in VideoConfig.ready."""

from __future__ import annotations

import logging
import shutil
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services
from .conf import video_settings
from .media import join_recordings, make_cover, probe_duration
from .models import Replay

log = logging.getLogger("zhunong.video")


class RecordingsNotSettled(Exception):
    """A publisher is still connected; Huey retries the task later."""


@db_task(retries=3, retry_delay=5)
def expire_grace_task(ingest_id: int) -> bool:
    return services.expire_grace(ingest_id=ingest_id)


def schedule_grace_expiry(sender: Any, *, ingest_id: int, delay: float, **_: Any) -> None:  # noqa: ANN401
    expire_grace_task.schedule(args=(ingest_id,), delay=delay)


def schedule_replay(sender: Any, *, replay_id: int, delay: float, **_: Any) -> None:  # noqa: ANN401
    build_replay_task.schedule(args=(replay_id,), delay=delay)


@db_periodic_task(crontab(minute="*"))
def sweep_ingests() -> None:
    # Safety net when no media monitor runs next to the platform (media server on another machine).
    services.expire_grace_periods()
    services.stop_ended_streams()


@db_task(retries=6, retry_delay=10)
def build_replay_task(replay_id: int) -> str:
    return build_replay(replay_id)


def build_replay(replay_id: int) -> str:
    """Join the stream's recordings into <replay dir>/<id>/replay.mp4 with a cover, and place chapters."""
    replay = Replay.objects.select_related("stream").filter(pk=replay_id).first()
    if replay is None:
        return "missing"
    if not services.recordings_settled(stream_id=replay.stream_id):
        raise RecordingsNotSettled(f"stream {replay.stream_id} still has a publisher")
    started = services.begin_replay(replay_id=replay_id)
    if started is None:
        return replay.status
    replay, recordings = started
    s = video_settings()
    try:
        segments = []
        offset = 0.0
        sources = []
        for rec in recordings:
            source = s.record_dir / rec.path
            if not source.is_file():
                continue
            try:
                duration = probe_duration(source)
            except RuntimeError as exc:
                log.warning("recording %s of stream %s is unreadable: %s", rec.pk, replay.stream_id, exc)
                continue
            if duration <= 0:
                continue
            segments.append(services.Segment(path=rec.path, wall_start=rec.started_at, duration=duration,
                                             offset=offset))
            sources.append(source)
            offset += duration
        if not sources:
            services.fail_replay(replay_id=replay_id, error="no readable recordings")
            return "failed"
        folder = s.replay_dir / str(replay.pk)
        if folder.exists():
            shutil.rmtree(folder)
        video = folder / "replay.mp4"
        cover = folder / "cover.jpg"
        join_recordings(sources, video)
        duration = probe_duration(video)
        make_cover(video, cover, at=min(3.0, duration / 2))
        services.finish_replay(
            replay_id=replay_id, video_path=f"{replay.pk}/replay.mp4", cover_path=f"{replay.pk}/cover.jpg",
            duration_s=duration, size_bytes=video.stat().st_size, segments=segments,
        )
        return "ready"
    except Exception as exc:
        services.fail_replay(replay_id=replay_id, error=f"{type(exc).__name__}: {exc}")
        raise
