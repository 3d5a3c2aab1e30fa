"""Retention never purges a stream's records while a case about an order from it is open: a complaint
(open / in progress), an after-sales request (requested / approved) or a pledge claim not decided yet.
live and video sit below fulfilment, so they ask through `live.hooks.held_streams`, which fulfilment fills
in at startup."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import complaints as complaint_services
from zhunong.live import chat, hooks, streams
from zhunong.live.models import ChatMessage, Stream

from .conftest import paid_order

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(days=4 * 365)


def _stream_with_an_order(fw):  # noqa: ANN001, ANN202
    room = fw.world.live_room([fw.product])
    order = paid_order(fw.buyer, [(fw.product, 1)], stream=room.stream)
    chat.save_chat_batch(stream_id=room.stream.pk, items=[chat.ChatIn(
        user_id=fw.buyer.pk, user_name="b", text="这个蓝莓是今年的吗", original="这个蓝莓是今年的吗", is_host=False,
        blocked=False, hits=[], at=timezone.now())])
    streams.end_stream(stream=room.stream, actor=room.host.user)
    return room.stream, order


def test_an_open_complaint_holds_the_streams_records_until_it_is_closed(fw):  # noqa: ANN001
    stream, order = _stream_with_an_order(fw)
    complaint = complaint_services.file_complaint(actor=fw.buyer, order=order, category="host",
                                                  text="主播说是有机蓝莓，收到的不是")
    assert hooks.held_streams([stream.pk]) == {stream.pk}
    counts = streams.purge_records(now=timezone.now() + LATER)
    assert counts["streams"] == 0
    assert ChatMessage.objects.filter(stream=stream).exists()
    assert Stream.objects.get(pk=stream.pk).records_purged_at is None

    complaint_services.update_complaint(actor=fw.operator, complaint=complaint, status="resolved",
                                        note="已核实主播宣传用语，责令整改")
    assert hooks.held_streams([stream.pk]) == set()
    assert streams.purge_records(now=timezone.now() + LATER)["streams"] == 1
    assert not ChatMessage.objects.filter(stream=stream).exists()


def test_an_open_after_sales_request_holds_the_streams_records(fw):  # noqa: ANN001
    stream, order = _stream_with_an_order(fw)
    after_sales_services.request_after_sales(actor=fw.buyer, line=order.lines.get(), kind="refund_only",
                                             reason="quality", evidence="果子一半是烂的")
    assert streams.purge_records(now=timezone.now() + LATER)["streams"] == 0
    assert ChatMessage.objects.filter(stream=stream).exists()


def test_streams_without_open_cases_are_purged(fw):  # noqa: ANN001
    stream, _order = _stream_with_an_order(fw)
    assert streams.purge_records(now=timezone.now() + LATER)["streams"] == 1
