from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.live import chat, errors, moderation, selectors, streams
from zhunong.live.models import (
    ChatMessage,
    Gift,
    HostVerification,
    ModerationAction,
    Pin,
    Stream,
    StreamMinute,
    StreamTransition,
)
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def test_unverified_host_cannot_go_live(world):
    room = world.live_room(status="scheduled")
    streams.revoke_host_verification(actor=world.operator, host=room.host, reason="证件过期")
    with pytest.raises(errors.HostNotVerified):
        streams.start_stream(stream=room.stream, actor=room.host.user)
    room.stream.refresh_from_db()
    assert room.stream.status == "scheduled"
    actions = list(HostVerification.objects.filter(host=room.host).values_list("action", "actor", "method"))
    assert ("revoked", world.operator.pk, "") in actions
    assert ("verified", world.operator.pk, "id_card_in_person") in actions


def test_verification_records_who_when_how(world):
    room = world.live_room(status="scheduled")
    host = room.host
    host.refresh_from_db()
    assert host.verified_by == world.operator and host.verified_at and host.verification_method == "id_card_in_person"
    with pytest.raises(ValidationFailed):
        streams.verify_host(actor=world.operator, host=host, method="telepathy")
    stranger = make_user(roles.COUNTY_OPERATOR)  # no region: covers nothing
    with pytest.raises(PermissionDenied):
        streams.verify_host(actor=stranger, host=host, method="video_call")


def test_training_is_recorded_by_the_county_office(world):
    room = world.live_room(status="scheduled")
    with pytest.raises(PermissionDenied):
        streams.record_host_training(actor=make_user(roles.COUNTY_OPERATOR), host=room.host, trained_at=dt.date(2026, 5, 1))
    streams.record_host_training(actor=world.operator, host=room.host, trained_at=dt.date(2026, 5, 1))
    room.host.refresh_from_db()
    assert room.host.trained_at == dt.date(2026, 5, 1)


def test_public_servant_kind_cannot_be_unset(world):
    room = world.live_room(kind="first_secretary", status="scheduled")
    assert room.host.is_public_servant
    host = streams.update_host(actor=world.operator, host=room.host, is_public_servant=False)
    assert host.is_public_servant  # a first secretary is a public servant whatever the box says


def test_state_machine_and_history(room):
    stream = room.stream
    assert stream.status == "live" and stream.started_at
    with pytest.raises(InvalidTransition):
        streams.start_stream(stream=stream, actor=room.host.user)
    streams.end_stream(stream=stream, actor=None, reason="推流结束")
    stream.refresh_from_db()
    assert stream.status == "ended" and stream.ended_at
    with pytest.raises(InvalidTransition):
        streams.end_stream(stream=stream)
    hist = list(StreamTransition.objects.filter(stream=stream).values_list("from_status", "to_status"))
    assert hist == [("", "scheduled"), ("scheduled", "live"), ("live", "ended")]


def test_cancel_only_scheduled(world):
    room = world.live_room(status="scheduled")
    streams.cancel_stream(actor=world.operator, stream=room.stream, reason="天气原因")
    assert Stream.objects.get(pk=room.stream.pk).status == "cancelled"
    with pytest.raises(InvalidTransition):
        streams.start_stream(stream=room.stream, actor=world.operator)


def test_schedule_only_listed_products_of_the_county(world):
    room = world.live_room(status="scheduled")
    draft = world.draft_product(name="未上架")
    now = timezone.now()
    with pytest.raises(errors.ProductNotListed):
        streams.schedule_stream(actor=world.operator, host=room.host, title="x", planned_start=now,
                                planned_end=now + dt.timedelta(hours=1), products=[draft])
    with pytest.raises(ValidationFailed):
        streams.schedule_stream(actor=world.operator, host=room.host, title="x", planned_start=now,
                                planned_end=now - dt.timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        streams.schedule_stream(actor=room.host.user, host=room.host, title="x", planned_start=now,
                                planned_end=now + dt.timedelta(hours=1))


def test_pins_close_previous_and_end_closes_pin(room):
    a, b = room.products
    user = room.host.user
    streams.pin_product(actor=user, stream=room.stream, product=a)
    streams.pin_product(actor=user, stream=room.stream, product=b)
    assert selectors.current_pin(room.stream).product == b
    assert Pin.objects.filter(stream=room.stream, unpinned_at__isnull=False).count() == 1
    other = room.world.listed_product(name="不在货架")
    with pytest.raises(errors.ProductNotOnShelf):
        streams.pin_product(actor=user, stream=room.stream, product=other)
    viewer = make_user()
    with pytest.raises(errors.NotModerator):
        streams.pin_product(actor=viewer, stream=room.stream, product=a)
    streams.end_stream(stream=room.stream, actor=user)
    assert selectors.current_pin(room.stream) is None


def test_moderation_is_logged_with_who_and_why(room):
    viewer = make_user()
    op = room.operator
    moderation.mute_user(actor=op, stream=room.stream, user=viewer, seconds=60, reason="刷屏")
    moderation.ban_user(actor=room.host.user, stream=room.stream, user=viewer, reason="辱骂")
    msg = chat.save_chat_batch(stream_id=room.stream.pk, items=[chat.ChatIn(
        user_id=viewer.pk, user_name="v", text="hi", original="hi", is_host=False, blocked=False, hits=[],
        at=timezone.now())])[0]
    moderation.delete_message(actor=op, stream=room.stream, message_id=msg.pk, reason="广告")
    log = list(ModerationAction.objects.filter(stream=room.stream).values_list("action", "actor", "reason"))
    assert ("mute", op.pk, "刷屏") in log
    assert ("ban", room.host.user.pk, "辱骂") in log
    assert ("delete_message", op.pk, "广告") in log
    assert ChatMessage.objects.get(pk=msg.pk).status == "deleted"
    with pytest.raises(PermissionDenied):
        moderation.mute_user(actor=op, stream=room.stream, user=room.host.user, seconds=60)
    with pytest.raises(errors.NotModerator):
        moderation.mute_user(actor=viewer, stream=room.stream, user=op, seconds=60)


def test_gift_to_public_servant_refused_recorded_and_flagged(official_room):
    viewer = make_user()
    for _ in range(2):
        with pytest.raises(errors.GiftRefused):
            chat.send_gift(user=viewer, stream=official_room.stream, kind="flower", via="api")
    assert Gift.objects.filter(stream=official_room.stream, refused=True).count() == 2
    flags = IntegrityFlag.objects.filter(kind="gift_to_official")
    assert flags.count() == 1 and flags[0].details["user_id"] == viewer.pk
    assert selectors.gifts_offered(official_room.stream) == []


def test_gift_to_other_host_accepted(room):
    viewer = make_user()
    gift = chat.send_gift(user=viewer, stream=room.stream, kind="flower", via="api")
    assert not gift.refused
    assert selectors.gifts_offered(room.stream)
    with pytest.raises(ValidationFailed):
        chat.send_gift(user=viewer, stream=room.stream, kind="rocket", via="api")


def test_minute_stats_add_up_and_keep_peak(room):
    minute = timezone.now()
    chat.add_minute_stats(stream_id=room.stream.pk, minute=minute, concurrent=5, new_viewers=2, chat=3)
    chat.add_minute_stats(stream_id=room.stream.pk, minute=minute, concurrent=4, new_viewers=1, chat=1, likes=9)
    row = StreamMinute.objects.get(stream=room.stream)
    assert (row.concurrent_viewers, row.new_viewers, row.chat_messages, row.likes) == (5, 3, 4, 9)


def test_purge_records_respects_retention_and_dry_run(room):
    chat.save_chat_batch(stream_id=room.stream.pk, items=[chat.ChatIn(
        user_id=room.host.user.pk, user_name="h", text="hi", original="hi", is_host=True, blocked=False, hits=[],
        at=timezone.now())])
    streams.end_stream(stream=room.stream, actor=room.host.user)
    later = timezone.now() + dt.timedelta(days=1100)
    assert streams.purge_records(days=1200, now=later)["streams"] == 0
    dry = streams.purge_records(days=1095, now=later, dry_run=True)
    assert dry["chatmessage"] == 1 and ChatMessage.objects.filter(stream=room.stream).count() == 1
    done = streams.purge_records(days=1095, now=later)
    assert done["chatmessage"] == 1 and not ChatMessage.objects.filter(stream=room.stream).exists()
    assert Stream.objects.get(pk=room.stream.pk).records_purged_at is not None
    assert StreamTransition.objects.filter(stream=room.stream).count() == 3  # the lifecycle stays
