from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from zhunong.live import chat, streams
from zhunong.live.models import ChatMessage, Stream, StreamMinute

pytestmark = pytest.mark.django_db


def _old_ended_stream(room):  # noqa: ANN001, ANN202
    chat.save_chat_batch(stream_id=room.stream.pk, items=[chat.ChatIn(
        user_id=room.host.user.pk, user_name="h", text="旧消息", original="旧消息", is_host=True, blocked=False,
        hits=[], at=timezone.now())])
    streams.end_stream(stream=room.stream, actor=room.host.user)
    Stream.objects.filter(pk=room.stream.pk).update(ended_at=timezone.now() - dt.timedelta(days=4 * 365))


def test_purge_command_dry_run_then_for_real(room, settings):
    settings.RECORD_RETENTION_DAYS = 3 * 365
    _old_ended_stream(room)
    out = io.StringIO()
    call_command("purge_live_records", "--dry-run", stdout=out)
    assert "Would delete the records of 1 stream(s)" in out.getvalue() and "1 chatmessage" in out.getvalue()
    assert ChatMessage.objects.filter(stream=room.stream).exists()
    out = io.StringIO()
    call_command("purge_live_records", stdout=out)
    assert "Deleted the records of 1 stream(s)" in out.getvalue()
    assert not ChatMessage.objects.filter(stream=room.stream).exists()


def test_purge_keeps_records_within_retention(room):
    _old_ended_stream(room)
    call_command("purge_live_records", "--days", str(5 * 365), stdout=io.StringIO())
    assert ChatMessage.objects.filter(stream=room.stream).exists()
    with pytest.raises(CommandError):
        call_command("purge_live_records", "--days", "0", stdout=io.StringIO())


def test_minute_gaps_are_filled_for_live_streams(room):
    from zhunong.live.models import Stream as S

    S.objects.filter(pk=room.stream.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    assert chat.fill_minute_gaps() == 1
    assert chat.fill_minute_gaps() == 0  # idempotent
    row = StreamMinute.objects.get(stream=room.stream)
    assert row.chat_messages == 0 and row.concurrent_viewers == 0


def test_demo_seed_is_idempotent(db):
    from zhunong.demo import live as demo
    from zhunong.demo import world as core_demo
    from zhunong.live.models import SensitiveWord

    core_demo.seed()
    out = io.StringIO()
    demo.seed(stdout=out, dry_run=False)
    assert "1 live stream" in out.getvalue() and "1 upcoming stream" in out.getvalue()
    channel_streams = Stream.objects.filter(channel__county__code=demo.MAIN_COUNTY_CODE)
    assert {s.status for s in channel_streams} == {"live", "scheduled", "ended"}
    live = channel_streams.get(status="live")
    assert live.products.exists() and live.pins.filter(unpinned_at__isnull=True).exists()
    assert SensitiveWord.objects.count() == len(demo.DEMO_WORDS)
    out = io.StringIO()
    demo.seed(stdout=out, dry_run=False)
    assert "demo streams present" in out.getvalue()
    assert channel_streams.count() == 3
