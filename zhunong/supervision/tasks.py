"""Post-stream integrity scan (Huey): when a stream ends, its log (with the same host's other recent
streams, so that a ring ordering across streams shows) goes through the same detectors as an imported log,
and the flags about it are kept (detection/record.py). A second run after the undo window catches fake
orders refunded in the days after the stream."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from huey.contrib.djhuey import db_task

from zhunong.live.models import Stream, StreamStatus, StreamTransition

from .detection import scan
from .detection.export import export_stream
from .detection.fake_orders import UNDO_DAYS
from .detection.record import record_flags, set_progress
from .eventlog import dumps, read_log

log = logging.getLogger(__name__)

HOST_HISTORY_DAYS = 30
HOST_HISTORY_STREAMS = 10


def _touches(flag: dict[str, Any], sid: str, orders: set[str], sessions: set[str]) -> bool:
    return (flag["evidence"].get("stream_id") == sid or sid in flag["evidence"].get("streams", ())
            or bool(orders & set(flag["order_ids"])) or bool(sessions & set(flag["session_ids"])))


def scan_stream(stream_id: int) -> dict[str, Any]:
    """Export, scan and record one ended stream; the progress is kept for the office's page."""
    stream = Stream.objects.select_related("channel", "host").filter(pk=stream_id).first()
    if stream is None or stream.status != StreamStatus.ENDED:
        return {"skipped": "no such ended stream"}
    set_progress(stream_id, stage="exporting")
    since = (stream.ended_at or timezone.now()) - dt.timedelta(days=HOST_HISTORY_DAYS)
    others = list(Stream.objects.filter(host=stream.host, status=StreamStatus.ENDED, ended_at__gte=since)
                  .exclude(pk=stream.pk).order_by("-ended_at")[:HOST_HISTORY_STREAMS])
    events = export_stream(stream)
    own_orders = {e["order_id"] for e in events if e["type"] == "order"}
    own_sessions = {e["session_id"] for e in events if e["type"] == "join"}
    for other in others:
        events.extend(export_stream(other))
    events.sort(key=lambda e: e["ts"])  # ISO 8601 in UTC with milliseconds: text order is time order
    set_progress(stream_id, stage="scanning", events=len(events), streams=1 + len(others))
    parsed = read_log(dumps(e) for e in events)
    flags = [f for f in scan(parsed) if _touches(f, f"s{stream.pk}", own_orders, own_sessions)]
    set_progress(stream_id, stage="recording", flags=len(flags))
    counts = record_flags(stream=stream, flags=flags)
    result = {"events": len(events), "bad_lines": len(parsed.bad_lines), "flags": len(flags), **counts}
    set_progress(stream_id, stage="done", **result)
    if parsed.bad_lines:
        log.warning("stream %s export had bad lines: %s", stream_id, parsed.bad_lines[:5])
    return result


@db_task()
def scan_stream_task(stream_id: int) -> dict[str, Any]:
    return scan_stream(stream_id)


def _stream_changed(sender, instance: StreamTransition, created: bool, **_: Any) -> None:  # noqa: ANN001
    if not created or instance.to_status != StreamStatus.ENDED:
        return
    stream_id = instance.stream_id

    def enqueue() -> None:
        set_progress(stream_id, stage="queued")
        scan_stream_task(stream_id)
        scan_stream_task.schedule(args=(stream_id,), delay=int((UNDO_DAYS + 1 / 24) * 86400))

    transaction.on_commit(enqueue)


def connect() -> None:
    """Called from SupervisionConfig.ready: live records every state change as a StreamTransition, so the
    end of a stream is heard without live importing supervision (the layers)."""
    post_save.connect(_stream_changed, sender=StreamTransition, dispatch_uid="supervision.scan_after_stream")
