"""The event log reader: every bad line reported with its number and reason, the rest read, nothing made up."""

import json

from zhunong.supervision.eventlog import parse_ts, read_log

ACC = {"id": "a1", "created_at": "2026-05-01T08:00:00+08:00", "device_hash": "d1"}


def line(**ev) -> str:  # noqa: ANN003
    return json.dumps(ev, ensure_ascii=False) + "\n"


def good_log() -> list[str]:
    return [
        line(type="stream", event_id="e1", ts="2026-06-01T20:00:00+08:00", stream_id="s1", host_id="h1", official=True,
             host_org="org1"),
        line(type="product", event_id="e2", ts="2026-06-01T20:00:00+08:00", product_id="p1", cost=10),
        line(type="join", event_id="e3", ts="2026-06-01T20:01:00+08:00", stream_id="s1", session_id="v1",
             account=ACC, address_hash="ip1"),
        line(type="heartbeat", event_id="e4", ts="2026-06-01T20:01:30+08:00", session_id="v1"),
        line(type="chat", event_id="e5", ts="2026-06-01T20:01:40+08:00", session_id="v1", text="好"),
        line(type="like", event_id="e6", ts="2026-06-01T20:01:41+08:00", session_id="v1", count=3),
        line(type="order", event_id="e7", ts="2026-06-01T20:02:00+08:00", order_id="o1", stream_id="s1",
             account={"id": "a1", "payment_hash": "pay1"}, items=[{"product_id": "p1", "quantity": 2,
                                                                 "unit_price": 15.5}], amount=31),
        line(type="payment", event_id="e8", ts="2026-06-01T20:03:00+08:00", order_id="o1", amount=31),
        line(type="viewers", event_id="e9", ts="2026-06-01T20:03:00+08:00", stream_id="s1", reported=1),
        line(type="leave", event_id="e10", ts="2026-06-01T20:04:00+08:00", session_id="v1"),
        line(type="refund", event_id="e11", ts="2026-06-03T10:00:00+08:00", order_id="o1", amount=31),
    ]


def test_a_good_log_is_read_whole():
    log = read_log(good_log())
    assert log.bad_lines == []
    assert log.summary() == {"lines": 11, "bad_lines": 0, "streams": 1, "sessions": 1, "accounts": 1, "orders": 1}
    session = log.sessions["v1"]
    assert (session.heartbeats, session.chats, session.likes, session.account_id) == (1, 1, 3, "a1")
    assert session.left == parse_ts("2026-06-01T20:04:00+08:00")
    order = log.orders["o1"]
    assert order.paid_amount == 31 and order.refunded_amount == 31 and order.items[0].quantity == 2
    # The account's metadata merges across events; what no event said stays unknown.
    acc = log.accounts["a1"]
    assert (acc.device_hash, acc.payment_hash, acc.address_hash, acc.org) == ("d1", "pay1", None, None)
    assert log.streams["s1"].reported == [(parse_ts("2026-06-01T20:03:00+08:00"), 1)]
    assert log.product_cost == {"p1": 10.0}


def test_each_bad_line_is_reported_with_its_number_and_the_rest_is_read():
    lines = good_log()
    T = "2026-06-03T10:30:00+08:00"  # after the good log's last line
    bad = [
        "{not json\n",
        "[1, 2]\n",
        line(type="teleport", event_id="x1", ts=T),
        line(type="heartbeat", event_id="x2", ts=T),  # no session_id
        line(type="heartbeat", event_id="e4", ts=T, session_id="v1"),  # duplicate id
        line(type="heartbeat", event_id="x3", ts="2026-06-02T19:00:00+08:00", session_id="v1"),  # out of order
        line(type="heartbeat", event_id="x4", ts=T, session_id="ghost"),
        line(type="payment", event_id="x5", ts=T, order_id="o9", amount=1),
        line(type="join", event_id="x6", ts="2026-06-03T10:30:00", stream_id="s1", session_id="v2"),  # no zone
        line(type="order", event_id="x7", ts=T, order_id="o1", stream_id="s1",
             account={"id": "a2"}, items=[{"product_id": "p1", "quantity": 1, "unit_price": 1}], amount=1),
        line(type="order", event_id="x8", ts=T, order_id="o2", stream_id="s1",
             account={"id": "a2"}, items=[{"product_id": "p1", "quantity": 0, "unit_price": 1}], amount=1),
        line(type="refund", event_id="x9", ts="2026-06-03T11:00:00+08:00", order_id="o1", amount=5),  # > paid
    ]
    # Bad lines go in after the refund (line 11); then a good line, then a truncated last line.
    tail = [line(type="viewers", event_id="e12", ts="2026-06-03T12:00:00+08:00", stream_id="s1", reported=0),
            '{"type": "heartbeat", "event_id": "x10", "ts": "2026-06-0']
    log = read_log(lines + bad + tail)
    reasons = dict(log.bad_lines)
    assert sorted(reasons) == [*range(12, 24), 25]
    assert reasons[12].startswith("malformed JSON")
    assert reasons[13] == "not a JSON object"
    assert reasons[14] == "unknown event type 'teleport'"
    assert reasons[15] == "missing field session_id"
    assert reasons[16] == "duplicate event_id 'e4'"
    assert reasons[17].startswith("out of order")
    assert reasons[18].startswith("unknown session 'ghost'")
    assert reasons[19].startswith("unknown order 'o9'")
    assert "without a UTC offset" in reasons[20]
    assert reasons[21] == "duplicate order_id 'o1'"
    assert "quantity" in reasons[22]
    assert "exceed what was paid" in reasons[23]
    assert reasons[25].startswith("truncated line")
    # Nothing of a bad line was taken in; the good line after them was.
    assert set(log.sessions) == {"v1"} and set(log.orders) == {"o1"} and log.orders["o1"].refunded_amount == 31
    assert log.sessions["v1"].heartbeats == 1
    assert len(log.streams["s1"].reported) == 2
    assert log.lines == 25


def test_times_are_iso_with_an_offset_or_epoch_seconds():
    assert parse_ts("2026-06-01T12:00:00Z") == parse_ts("2026-06-01T20:00:00+08:00") == parse_ts(1780315200)


def test_odd_json_values_are_bad_lines_not_crashes():
    odd = [line(type=["join"], event_id="x1", ts="2026-06-01T20:05:00+08:00"),
           line(type="heartbeat", event_id=["x2"], ts="2026-06-01T20:05:00+08:00", session_id="v1"),
           line(type="heartbeat", event_id="x3", ts=True, session_id="v1"),
           line(type="heartbeat", event_id="x4", ts="2026-06-01T20:05:00+08:00", session_id={"id": "v1"}),
           line(type="order", event_id="x5", ts="2026-06-01T20:05:00+08:00", order_id="o5", account="a1",
                items=[], amount=-1)]
    log = read_log(good_log()[:4] + odd)
    assert [n for n, _ in log.bad_lines] == [5, 6, 7, 8, 9]
    assert log.sessions["v1"].heartbeats == 1


def test_a_blank_line_is_skipped_silently():
    log = read_log(["\n", *good_log()])
    assert log.bad_lines == [] and log.lines == 12
