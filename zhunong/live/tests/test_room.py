"""The room protocol over a real ASGI stack (WebsocketCommunicator): happy paths and bad input."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from zhunong.core.events import publish_room_event, room_group
from zhunong.live import hub as hub_module
from zhunong.live import moderation, store, streams
from zhunong.live.models import ChatMessage, Gift, ModerationAction, Pin, ViewerSession
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user

from .wsutil import closed_with, connect, events_until, quiet, recv, reply_to, run, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_room_state():
    store.reset_memory_store()
    hub_module.reset_word_cache()
    yield



def is_t(t):  # noqa: ANN001, ANN201
    return lambda e: e.get("t") == t


db = database_sync_to_async


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    return world.live_room()


@run
async def _anonymous_viewer(room):  # noqa: ANN001, ANN202
    comm, welcome = await connect(room.stream.pk, vid="browser-0001")
    assert welcome["t"] == "welcome" and welcome["v"] == 1
    assert welcome["stream"]["status"] == "live" and welcome["you"]["role"] == "anonymous"
    assert [p["id"] for p in welcome["shelf"]] == [p.pk for p in room.products]
    assert welcome["pin"] is None and welcome["stream"]["gifts"]
    await send(comm, {"t": "chat", "text": "你好", "ref": "r1"})
    err = await recv(comm)
    assert err == {"t": "error", "code": "login_required", "message": "请先登录", "ref": "r1"}
    await send(comm, {"t": "like"})
    assert (await recv(comm))["code"] == "login_required"
    await send(comm, {"t": "hb"})
    assert (await recv(comm))["t"] == "hb"
    await comm.disconnect()


def test_anonymous_may_watch_but_not_chat(room):
    _anonymous_viewer(room)


@run
async def _missing_streams(room):  # noqa: ANN001, ANN202
    for bad in ("999999", "abc", "0"):
        comm, frame = await connect(bad)
        assert frame["t"] == "error" and frame["code"] == "stream_not_found"
        assert await closed_with(comm) == 4404
    await db(streams.end_stream)(stream=room.stream, actor=room.host.user)
    comm, frame = await connect(room.stream.pk)
    assert frame["code"] == "stream_ended"
    assert await closed_with(comm) == 4410


def test_nonexistent_and_ended_streams_get_error_and_close_code(room):
    _missing_streams(room)


@run
async def _chat_between_viewers(room, alice, bob):  # noqa: ANN001, ANN202
    a, wa = await connect(room.stream.pk, user=alice)
    b, _ = await connect(room.stream.pk, user=bob)
    h, wh = await connect(room.stream.pk, user=room.host.user)
    assert wa["you"]["role"] == "viewer" and wh["you"]["role"] == "host"
    await send(a, {"t": "chat", "text": "<b>蓝莓</b> 甜吗？ 看 https://evil.example.com/x", "ref": 7})
    ack = await recv(a)
    assert ack["t"] == "ack" and ack["ref"] == 7 and isinstance(ack["id"], int)
    events = await events_until(b, is_t("chat"))
    chat = next(e for e in events if e["t"] == "chat")
    assert chat["text"] == "&lt;b&gt;蓝莓&lt;/b&gt; 甜吗？ 看"  # escaped, link removed
    assert chat["host"] is False and chat["user_id"] == alice.pk
    await send(h, {"t": "chat", "text": "很甜！", "ref": "h1"})
    events = await events_until(b, lambda e: e.get("t") == "chat" and e.get("host"))
    assert any(e.get("text") == "很甜！" and e["role"] == "host" for e in events)
    stored = await db(lambda: list(ChatMessage.objects.filter(stream=room.stream).values_list("original", "is_host")))()
    assert ("很甜！", True) in stored and any("https://evil" in o for o, _ in stored)
    for c in (a, b, h):
        await c.disconnect()


def test_chat_reaches_other_viewers_escaped_and_host_marked(room):
    alice, bob = make_user(), make_user()
    _chat_between_viewers(room, alice, bob)


@run
async def _bad_input(room, alice, bob):  # noqa: ANN001, ANN202
    a, _ = await connect(room.stream.pk, user=alice)
    b, _ = await connect(room.stream.pk, user=bob)
    await a.send_to(text_data="{not json")
    assert (await recv(a))["code"] == "bad_json"
    await a.send_to(text_data="[1,2]")
    assert (await recv(a))["code"] == "bad_frame"
    await send(a, {"t": "fly"})
    assert (await recv(a))["code"] == "unknown_type"
    await send(a, {"t": "chat", "text": "x" * 3000})
    assert (await recv(a))["code"] == "too_large"
    await send(a, {"t": "chat", "text": "x" * 201})
    assert (await recv(a))["code"] == "too_long"
    await send(a, {"t": "chat", "text": "a\u0000b"})
    assert (await recv(a))["code"] == "invalid"
    await send(a, {"t": "chat", "text": 12})
    assert (await recv(a))["code"] == "invalid"
    await a.send_to(bytes_data=b"\x00\x01")
    assert (await recv(a))["code"] == "bad_frame"
    await send(a, {"t": "like", "n": 10**9})
    assert (await recv(a))["code"] == "invalid"
    await send(a, {"t": "click", "product_id": "1"})
    assert (await recv(a))["code"] == "product_not_on_shelf"
    # Nothing of that reached the other viewer.
    assert await quiet(b)
    await b.disconnect()
    await a.disconnect()


def test_bad_frames_get_clear_errors_and_nothing_is_broadcast(room):
    _bad_input(room, make_user(), make_user())


@run
async def _too_many_bad_frames(room):  # noqa: ANN001, ANN202
    comm, _ = await connect(room.stream.pk)
    codes = []
    for _ in range(8):
        await comm.send_to(text_data="nope")
    while True:
        out = await comm.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == 4400
            break
        frame = json.loads(out["text"])
        if frame["t"] == "error":
            codes.append(frame["code"])
    assert codes == ["bad_json"] * 6 + ["too_many_bad_frames"]


def test_a_connection_sending_garbage_is_closed(room, monkeypatch):
    from zhunong.live import consumers

    monkeypatch.setattr(consumers, "MAX_BAD_FRAMES", 5)
    _too_many_bad_frames(room)


@run
async def _flood_frames(room):  # noqa: ANN001, ANN202
    comm, _ = await connect(room.stream.pk)
    for _ in range(40):
        await send(comm, {"t": "hb"})
    codes = []
    while True:
        out = await comm.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == 4429
            break
        frame = json.loads(out["text"])
        if frame["t"] == "error":
            codes.append(frame["code"])
    assert codes and set(codes) == {"flooding"}


def test_frame_flooding_is_dropped_then_closed(room, monkeypatch):
    from zhunong.live import consumers

    monkeypatch.setattr(consumers, "MAX_FLOOD_STRIKES", 10)
    _flood_frames(room)


@run
async def _flooding(room, alice):  # noqa: ANN001, ANN202
    a, _ = await connect(room.stream.pk, user=alice)
    for i in range(4):
        await send(a, {"t": "chat", "text": f"刷屏{i}", "ref": i})
    frames = [await recv(a) for _ in range(5)]
    kinds = [(f["t"], f.get("code"), f.get("ref")) for f in frames]
    assert ("notice", "rate_limited", None) in kinds
    assert ("error", "rate_limited", 3) in kinds
    assert sum(1 for f in frames if f["t"] == "ack") == 3
    await send(a, {"t": "chat", "text": "还在禁言吗", "ref": 9})
    err = await recv(a)
    assert err["code"] == "muted" and err["until"]
    await a.disconnect()


def test_flooding_is_muted_for_ten_seconds_with_a_notice_and_logged(room):
    alice = make_user()
    _flooding(room, alice)
    log = ModerationAction.objects.filter(stream=room.stream, action="auto_mute", target_user=alice)
    assert log.count() == 1 and log[0].actor is None


@run
async def _host_actions(room, alice, bob):  # noqa: ANN001, ANN202
    a, _ = await connect(room.stream.pk, user=alice)
    b, _ = await connect(room.stream.pk, user=bob)
    h, _ = await connect(room.stream.pk, user=room.host.user)
    product = room.products[1]
    # A viewer trying host actions gets an error and changes nothing.
    for frame in ({"t": "pin", "product_id": product.pk}, {"t": "end"}, {"t": "mute", "user_id": bob.pk},
                  {"t": "slow_mode", "seconds": 5}):
        await send(a, frame)
        assert (await recv(a))["code"] == "not_moderator"
    assert not await db(Pin.objects.filter(stream=room.stream).exists)()
    await send(h, {"t": "pin", "product_id": product.pk, "ref": "p"})
    events = await events_until(b, is_t("pin"))
    pin = next(e for e in events if e["t"] == "pin")
    assert pin["pin"]["product"]["id"] == product.pk
    await send(h, {"t": "pin", "product_id": 987654, "ref": "bad"})
    assert (await reply_to(h, "bad"))["code"] == "product_not_on_shelf"
    await send(h, {"t": "announce", "text": "<i>今晚八点</i>秒杀"})
    events = await events_until(a, is_t("announce"))
    assert next(e for e in events if e["t"] == "announce")["text"] == "&lt;i&gt;今晚八点&lt;/i&gt;秒杀"
    # Mute: bob's chat is refused while muted.
    await send(h, {"t": "mute", "user_id": bob.pk, "seconds": 60, "reason": "广告"})
    await events_until(b, lambda e: e.get("t") == "mod" and e.get("action") == "mute")
    await send(b, {"t": "chat", "text": "买它", "ref": 1})
    assert (await recv(b))["code"] == "muted"
    # Delete a message.
    await send(a, {"t": "chat", "text": "不当言论", "ref": "x"})
    ack = await reply_to(a, "x")
    await send(h, {"t": "delete", "message_id": ack["id"], "reason": "不当"})
    await events_until(b, lambda e: e.get("t") == "deleted" and e.get("message_id") == ack["id"])
    # Slow mode.
    await send(h, {"t": "slow_mode", "seconds": 30})
    await events_until(a, lambda e: e.get("t") == "settings" and e.get("slow_mode") == 30)
    # Alice chatted a moment ago: within 30 s she must wait.
    await send(a, {"t": "chat", "text": "第二条", "ref": "s2"})
    slow = await reply_to(a, "s2")
    assert slow["code"] == "slow_mode" and slow["until"]
    await send(h, {"t": "chat", "text": "主播不受慢速限制", "ref": "h2"})
    assert (await reply_to(h, "h2"))["t"] == "ack"
    # Ban: bob is closed with 4403 and cannot come back.
    await send(h, {"t": "ban", "user_id": bob.pk, "reason": "辱骂"})
    assert await closed_with(b) == 4403
    b2, frame = await connect(room.stream.pk, user=bob)
    assert frame["code"] == "banned" and await closed_with(b2) == 4403
    # End: everyone gets the status and is closed with 4410.
    await send(h, {"t": "end", "reason": "下播"})
    events = await events_until(a, is_t("status"))
    assert next(e for e in events if e["t"] == "status")["status"] == "ended"
    assert await closed_with(a) == 4410


def test_host_console_actions_and_viewer_attempts(room):
    alice, bob = make_user(), make_user()
    _host_actions(room, alice, bob)
    actions = set(ModerationAction.objects.filter(stream=room.stream).values_list("action", flat=True))
    assert {"mute", "delete_message", "slow_mode", "ban", "end_stream"} <= actions
    assert Pin.objects.get(stream=room.stream).unpinned_at is not None  # ending closes the pin


@run
async def _established_only(room, newbie):  # noqa: ANN001, ANN202
    await db(moderation.set_established_only)(actor=room.operator, stream=room.stream, minutes=60)
    comm, welcome = await connect(room.stream.pk, user=newbie)
    assert welcome["settings"]["established_only"] == 60
    await send(comm, {"t": "chat", "text": "我是新号", "ref": 1})
    assert (await recv(comm))["code"] == "account_too_new"
    await comm.disconnect()


def test_established_accounts_only(room):
    _established_only(room, make_user())


@run
async def _words(room, alice, bob):  # noqa: ANN001, ANN202
    a, _ = await connect(room.stream.pk, user=alice)
    b, _ = await connect(room.stream.pk, user=bob)
    await send(a, {"t": "chat", "text": "想要的 加 微-信 聯繫", "ref": 1})
    assert (await recv(a))["t"] == "ack"
    events = await events_until(b, is_t("chat"))
    assert next(e for e in events if e["t"] == "chat")["text"] == "想要的 * *** 聯繫"
    await send(a, {"t": "chat", "text": "保證刷單返現喔", "ref": 2})
    err = await recv(a)
    assert err["code"] == "blocked_words" and err["ref"] == 2
    assert await quiet(b, 0.6)
    await a.disconnect()
    await b.disconnect()


def test_sensitive_words_masked_or_blocked_including_variants(room):
    moderation.save_sensitive_word(actor=room.operator, word="加微信", action="mask", category="私下交易")
    moderation.save_sensitive_word(actor=room.operator, word="刷单返现", action="block", category="刷单")
    alice, bob = make_user(), make_user()
    _words(room, alice, bob)
    blocked = ChatMessage.objects.get(stream=room.stream, status="blocked")
    assert blocked.filter_hits == ["刷单返现"] and blocked.original == "保證刷單返現喔"
    assert ModerationAction.objects.filter(stream=room.stream, action="block_message", actor=None).count() == 1


@run
async def _gift(room, alice):  # noqa: ANN001, ANN202
    a, welcome = await connect(room.stream.pk, user=alice)
    assert welcome["stream"]["gifts"] == [] and welcome["stream"]["host"]["public_servant"] is True
    await send(a, {"t": "gift", "kind": "flower", "ref": "g"})
    err = await recv(a)
    assert err["code"] == "gift_refused_public_servant" and err["ref"] == "g"
    await a.disconnect()


def test_no_gifts_for_public_servant_hosts_over_the_socket(world):
    room = world.live_room(kind="first_secretary")
    alice = make_user()
    _gift(room, alice)
    assert Gift.objects.filter(stream=room.stream, user=alice, refused=True, via="socket").count() == 1
    assert IntegrityFlag.objects.filter(kind="gift_to_official").count() == 1


@run
async def _other_apps_events(room):  # noqa: ANN001, ANN202
    v1, _ = await connect(room.stream.pk, vid="viewer-one-01")
    v2, _ = await connect(room.stream.pk, vid="viewer-two-02")
    product = room.products[0]

    def publish():  # noqa: ANN202
        with transaction.atomic():
            publish_room_event(room.stream.pk, {"t": "stock", "product_id": product.pk, "stock": 3})
            publish_room_event(room.stream.pk, {"t": "sale", "product_id": product.pk, "price": "9.90"})

    await db(publish)()
    for comm in (v1, v2):
        events = await events_until(comm, is_t("sale"))
        assert {"stock", "sale"} <= {e["t"] for e in events}
    # The hub's snapshot follows: a newcomer sees the new stock.
    v3, welcome = await connect(room.stream.pk)
    assert next(p for p in welcome["shelf"] if p["id"] == product.pk)["stock"] == 3
    for comm in (v1, v2, v3):
        await comm.disconnect()


def test_events_from_other_apps_reach_every_viewer(room):
    _other_apps_events(room)


@run
async def _sampling(room):  # noqa: ANN001, ANN202
    viewer, _ = await connect(room.stream.pk, vid="sampled-viewer")
    layer = get_channel_layer()
    chats = [{"t": "chat", "id": i, "user_id": 1, "name": "n", "text": f"m{i}", "host": False, "role": "viewer",
              "at": ""} for i in range(300)]
    await layer.group_send(room_group(room.stream.pk), {"type": "room.chat", "messages": chats})
    await layer.group_send(room_group(room.stream.pk), {"type": "room.event", "important": True,
                                                        "event": {"t": "sale", "product_id": 1}})
    await layer.group_send(room_group(room.stream.pk), {"type": "room.chat", "messages": [
        {**chats[0], "id": 1000, "host": True, "role": "host", "text": "主播回复"}]})
    events = await events_until(viewer, lambda e: e.get("role") == "host")
    got = [e for e in events if e["t"] == "chat"]
    sampled = sum(e["n"] for e in events if e["t"] == "sampled")
    assert any(e["t"] == "sale" for e in events)
    assert len(got) <= hub_module.CHAT_BURST + 2 and sampled >= 300 - len(got)
    await viewer.disconnect()


def test_chat_is_sampled_but_important_events_never_are(room):
    _sampling(room)


@run
async def _viewers(room):  # noqa: ANN001, ANN202
    first, _ = await connect(room.stream.pk, vid="same-browser-1")
    await first.disconnect()
    again, _ = await connect(room.stream.pk, vid="same-browser-1")
    other, _ = await connect(room.stream.pk, vid="other-browser-2")
    hub = hub_module.running_hubs()[room.stream.pk]
    await hub._sweep()
    assert hub.viewers == 2
    await send(again, {"t": "hb"})
    assert (await recv(again))["viewers"] == 2
    await other.disconnect()
    await hub._sweep()
    assert hub.viewers == 1
    await hub._flush_stats()
    await again.disconnect()


def test_viewer_count_counts_distinct_sessions_and_reconnects_once(room):
    _viewers(room)
    assert ViewerSession.objects.filter(stream=room.stream).count() == 2
    minute = room.stream.minutes.get()
    assert minute.new_viewers == 2 and minute.concurrent_viewers == 2


@run
async def _likes(room, alice):  # noqa: ANN001, ANN202
    a, _ = await connect(room.stream.pk, user=alice)
    for _ in range(5):
        await send(a, {"t": "like", "n": 3})
    await send(a, {"t": "click", "product_id": room.products[0].pk})
    await send(a, {"t": "chat", "text": "点赞了", "ref": "c"})
    events = await events_until(a, lambda e: e.get("t") == "likes" and e.get("total") == 15)
    assert sum(1 for e in events if e["t"] == "likes") <= 3  # totals per tick, not a frame per like
    hub = hub_module.running_hubs()[room.stream.pk]
    await hub._flush_stats()
    await a.disconnect()


def test_likes_clicks_and_chat_are_counted_in_the_minute_series(room):
    _likes(room, make_user())
    room.stream.refresh_from_db()
    assert room.stream.like_total == 15
    minute = room.stream.minutes.get()
    assert (minute.likes, minute.product_clicks, minute.chat_messages) == (15, 1, 1)


def test_send_buffer_skips_chat_then_closes_slow_clients():
    from zhunong.live.consumers import HARD_BUFFER, SOFT_BUFFER, SendBuffer

    buf = SendBuffer()
    for i in range(SOFT_BUFFER):
        buf.push(f"c{i}", important=False)
    buf.push("chat", important=False)
    assert buf.skipped == 1 and len(buf.items) == SOFT_BUFFER
    for i in range(HARD_BUFFER - SOFT_BUFFER):
        buf.push(f"i{i}", important=True)
    assert len(buf.items) == HARD_BUFFER and buf.closing is None
    buf.push("one too many", important=True)
    assert buf.closing == 4429 and list(buf.items)[-1] == 4429
    assert json.loads(buf.items[0])["code"] == "too_slow"
