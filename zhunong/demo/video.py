"""Demo video for `zhunong seed_demo`: stream keys for the demo streams, so hosts find them on the console.

The synthetic publisher that feeds the demo room (`zhunong serve --demo-video`) is zhunong.video.publisher.
"""

from __future__ import annotations

from zhunong.live.models import Stream, StreamStatus
from zhunong.video.services import ensure_ingest


def seed(*, stdout, dry_run: bool) -> None:  # noqa: ANN001
    """Give every scheduled or live demo stream its ingest (secret key), so hosts find it on the console."""
    created = 0
    for stream in Stream.objects.filter(status__in=[StreamStatus.SCHEDULED, StreamStatus.LIVE]):
        if not hasattr(stream, "ingest"):
            ensure_ingest(stream=stream)
            created += 1
    verb = "would create" if dry_run else "created"
    stdout.write(f"video: {verb} {created} stream key(s)" if created else "video: stream keys present")
