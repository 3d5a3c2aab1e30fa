"""Gifts and reports are throttled per user (over the socket and the API alike): a script cannot fill the
room, the gift table or the moderators' queue."""

from __future__ import annotations

import json

import pytest

from zhunong.live import hub as hub_module
from zhunong.live import store
from zhunong.live.models import Gift, Report
from zhunong.testing import api_auth, make_user

from .wsutil import connect, reply_to, run, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_room_state():
    store.reset_memory_store()
    hub_module.reset_word_cache()
    yield


def forget(user) -> None:  # noqa: ANN001
    for kind in ("gift", "report"):
        store.reset_throttle(kind, user.pk)


@run
async def _gifts(room, alice):  # noqa: ANN001, ANN202
    comm, _ = await connect(room.stream.pk, user=alice)
    for i in range(store.GIFTS_PER_WINDOW):
        await send(comm, {"t": "gift", "kind": "flower", "ref": i})
        assert (await reply_to(comm, i))["t"] == "ack"
    await send(comm, {"t": "gift", "kind": "flower", "ref": "over"})
    frame = await reply_to(comm, "over")
    assert (frame["t"], frame["code"]) == ("error", "too_many_gifts")
    assert 0 < frame["details"]["retry_after"] <= store.GIFT_WINDOW
    await comm.disconnect()


def test_gifts_over_the_socket_are_throttled_per_user(room):
    alice = make_user()
    forget(alice)
    _gifts(room, alice)
    assert Gift.objects.filter(user=alice).count() == store.GIFTS_PER_WINDOW


def test_gifts_over_the_api_share_the_limit_and_refused_gifts_count_too(client, world):
    room = world.live_room(kind="first_secretary")  # a public servant: every gift is refused and stored
    alice = make_user()
    forget(alice)
    url = f"/api/v1/live/streams/{room.stream.pk}/gifts"
    codes = [client.post(url, {"kind": "flower"}, content_type="application/json", **api_auth(alice)).json()["code"]
             for _ in range(store.GIFTS_PER_WINDOW + 1)]
    assert codes == ["gift_refused_public_servant"] * store.GIFTS_PER_WINDOW + ["too_many_gifts"]
    resp = client.post(url, {"kind": "flower"}, content_type="application/json", **api_auth(alice))
    assert resp.status_code == 429 and resp.json()["details"]["retry_after"] > 0
    assert Gift.objects.filter(user=alice).count() == store.GIFTS_PER_WINDOW  # the refused ones stop being stored


def test_reports_are_throttled_per_user(client, room):
    alice, bob = make_user(), make_user()
    forget(alice)
    forget(bob)
    url = f"/api/v1/live/streams/{room.stream.pk}/reports"
    targets = [make_user() for _ in range(store.REPORTS_PER_WINDOW + 1)]
    statuses = [client.post(url, {"reason": "spam", "user_id": t.pk}, content_type="application/json",
                            **api_auth(alice)).status_code for t in targets]
    assert statuses == [201] * store.REPORTS_PER_WINDOW + [429]
    last = client.post(url, {"reason": "spam", "user_id": targets[0].pk}, content_type="application/json",
                       **api_auth(alice))
    assert json.loads(last.content)["code"] == "too_many_reports"
    assert Report.objects.filter(reporter=alice).count() == store.REPORTS_PER_WINDOW
    # Per user: another viewer may still report.
    assert client.post(url, {"reason": "spam", "user_id": targets[-1].pk}, content_type="application/json",
                       **api_auth(bob)).status_code == 201
