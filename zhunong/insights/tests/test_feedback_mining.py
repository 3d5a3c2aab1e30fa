"""Comment mining over stored chat and reviews: attribution to products, requests nobody sells, the command."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhunong.fulfilment.services import reviews as review_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.insights import feedback
from zhunong.insights.models import CommentInsight
from zhunong.live import chat
from zhunong.live import streams as live
from zhunong.orders import services as orders
from zhunong.testing import build_world, make_user, unique
from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401 - autouse, as in orders

pytestmark = pytest.mark.django_db


def say(room, texts: list[str], *, days_ago: int = 0, user=None) -> None:  # noqa: ANN001
    user = user or make_user()
    at = timezone.now() - dt.timedelta(days=days_ago)
    chat.save_chat_batch(stream_id=room.stream.pk, items=[
        chat.ChatIn(user_id=user.pk, user_name=user.username, text=t, original=t, is_host=False, blocked=False,
                    hits=[], at=at) for t in texts])


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    tea = world.listed_product(name="安化茯砖茶 1千克")
    cake = world.listed_product(name="安化千两茶 500克饼")
    return world.live_room([tea, cake])


def test_chat_is_classified_once_and_attributed_to_the_product_it_names(room) -> None:  # noqa: ANN001
    tea, cake = room.products
    say(room, ["茯砖茶快递太慢了", "千两茶包装很好", "能出牦牛排吗", "主播好"])
    live.pin_product(actor=room.host_user, stream=room.stream, product=cake)
    say(room, ["太贵了"])  # names nothing: the product on screen
    result = feedback.mine_comments()
    assert result["chat"] == 5
    rows = {c.text: c for c in CommentInsight.objects.all()}
    assert rows["茯砖茶快递太慢了"].product == tea and rows["茯砖茶快递太慢了"].themes == ["delivery"]
    assert rows["茯砖茶快递太慢了"].sentiment < 0
    assert rows["千两茶包装很好"].product == cake
    assert rows["太贵了"].product == cake
    assert rows["能出牦牛排吗"].requested == "牦牛排" and rows["能出牦牛排吗"].county == room.world.county
    assert rows["主播好"].themes == []
    assert feedback.mine_comments()["total"] == 0  # nothing twice
    assert CommentInsight.objects.count() == 5


def test_host_messages_and_blocked_ones_are_not_mined(room) -> None:  # noqa: ANN001
    chat.save_chat_batch(stream_id=room.stream.pk, items=[
        chat.ChatIn(user_id=room.host_user.pk, user_name="主播", text="茯砖茶今天包邮", original="茯砖茶今天包邮",
                    is_host=True, blocked=False, hits=[], at=timezone.now()),
        chat.ChatIn(user_id=room.host_user.pk, user_name="x", text="加微信买更便宜", original="加微信买更便宜",
                    is_host=False, blocked=True, hits=["加微信"], at=timezone.now())])
    assert feedback.mine_comments()["total"] == 0


def test_reviews_are_mined(world) -> None:  # noqa: ANN001
    product = world.listed_product(name="洋河蓝莓")
    buyer = make_user()
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], idempotency_key=unique("k"))
    orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
    shipment = order.shipments.get()
    shipment_services.ship_shipment(actor=world.operator, shipment=shipment, carrier="sf", tracking_number="SF12345678")
    shipment_services.confirm_delivery(actor=buyer, shipment=shipment)
    review_services.create_review(actor=buyer, line=order.lines.get(), rating=2, text="收到的時候已經爛了，包裝也破了")
    feedback.mine_comments(county=world.county)
    row = CommentInsight.objects.get(source=CommentInsight.Source.REVIEW)
    assert row.product == product and row.themes == ["packaging", "freshness"] and row.sentiment < 0


def test_top_complaints_with_trend_and_examples(room) -> None:  # noqa: ANN001
    tea, _cake = room.products
    say(room, ["茯砖茶快递太慢了"], days_ago=40)
    say(room, ["茯砖茶物流慢", "茯砖茶还没发货", "茯砖茶发货太慢了"], days_ago=3)
    say(room, ["有没有小包装的茯砖茶", "茯砖茶能出小包装吗"], days_ago=2)
    say(room, ["茯砖茶很香"], days_ago=1)
    feedback.mine_comments()
    said = feedback.product_feedback(tea)
    top = said.complaints[0]
    assert (top.theme, top.count, top.trend) == ("delivery", 4, "rising")
    assert top.weekly[-1] == 3 and "茯砖茶发货太慢了" in top.examples
    assert said.requests[0].count == 2
    assert said.praise[0].theme == "quality"


def test_requested_products_nobody_sells(room) -> None:  # noqa: ANN001
    say(room, ["能出牦牛排吗", "能不能上点牦牛排", "什么时候上擂茶", "能不能上点茯砖茶", "有没有小包装"])
    feedback.mine_comments()
    unmet = feedback.unmet_requests(room.world.county)
    assert [(r.name, r.count) for r in unmet] == [("牦牛排", 2), ("擂茶", 1)]  # 茯砖茶 is sold; a pack size is no product
    assert feedback.unmet_requests(build_world().county) == []
    client = Client()
    client.force_login(room.world.operator)
    body = client.get(reverse("insights:feedback")).content.decode()
    assert "牦牛排" in body and "擂茶" in body


def test_classify_command_reads_stdin(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("sys.stdin", io.StringIO("物流一點也不慢\n\n能出牦牛排吗\n"))
    out = io.StringIO()
    call_command("feedback", "classify", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["themes"] for line in lines] == [["delivery"], ["request"]]
    assert lines[0]["sentiment"] > 0 and set(lines[0]) == {"text", "themes", "sentiment", "keywords"}


def test_evaluate_and_mine_commands(room) -> None:  # noqa: ANN001
    out = io.StringIO()
    call_command("feedback", "evaluate", "--split", "heldout", stdout=out)
    assert json.loads(out.getvalue())["comments"] >= 100
    say(room, ["太贵了"])
    out = io.StringIO()
    call_command("feedback", "mine", "--dry-run", stdout=out)
    assert "1 comments" in out.getvalue() and not CommentInsight.objects.exists()
    call_command("feedback", "mine", stdout=io.StringIO(), stderr=io.StringIO())
    assert CommentInsight.objects.count() == 1
