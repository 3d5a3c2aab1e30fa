from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.fulfilment import selectors
from zhunong.fulfilment.errors import (
    AlreadyReviewed,
    BadRating,
    ClaimExceedsPledge,
    ClaimExists,
    ConflictOfInterest,
    HostCannotReceive,
    NotBoughtInStream,
    PledgeCapExceeded,
    ProductNotInOrder,
    PublicServantMustUseFund,
    ReviewNotAllowed,
    StreamClosed,
)
from zhunong.fulfilment.models import PledgeClaim, Review
from zhunong.fulfilment.services import pledges as pledge_services
from zhunong.fulfilment.services import reviews as review_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.services.pledges import CLAIM
from zhunong.orders.errors import NotYourOrder
from zhunong.testing import build_world, make_user

from .conftest import paid_order

pytestmark = pytest.mark.django_db


def _delivered_line(fw, product=None):  # noqa: ANN001, ANN202
    product = product or fw.product
    order = paid_order(fw.buyer, [(product, 1)])
    shipment = order.shipments.get()
    manager = fw.manager if product == fw.product else fw.manager2
    shipment_services.ship_shipment(actor=manager, shipment=shipment, carrier="sf", tracking_number=f"SF{order.pk:08d}")
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    return order.lines.get()


# ---------------------------------------------------------------- reviews


def test_no_review_before_delivery(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    with pytest.raises(ReviewNotAllowed):
        review_services.create_review(actor=fw.buyer, line=line, rating=5)
    shipment_services.ship_shipment(actor=fw.manager, shipment=order.shipments.get(), carrier="sf",
                                    tracking_number="SF55556666")
    with pytest.raises(ReviewNotAllowed):  # shipped is not delivered
        review_services.create_review(actor=fw.buyer, line=line, rating=5)
    assert not Review.objects.exists()


def test_one_review_per_delivered_line_by_its_buyer(fw):
    line = _delivered_line(fw)
    with pytest.raises(NotYourOrder):
        review_services.create_review(actor=make_user(), line=line, rating=1, text="刷差评")
    review = review_services.create_review(actor=fw.buyer, line=line, rating=4, text="果子很甜，就是送得有点慢")
    assert review.product == fw.product and review.producer == fw.producer
    with pytest.raises(AlreadyReviewed):
        review_services.create_review(actor=fw.buyer, line=line, rating=5)
    assert Review.objects.count() == 1


@pytest.mark.parametrize("rating", [0, 6, -1, "5", 4.5, True, None, 10**20])
def test_bad_ratings_are_refused(fw, rating):
    line = _delivered_line(fw)
    with pytest.raises(BadRating):
        review_services.create_review(actor=fw.buyer, line=line, rating=rating)
    assert not Review.objects.exists()


@pytest.mark.parametrize("text", ["x" * 501, "好\x00评", "\u202egood"])
def test_bad_review_text_is_refused(fw, text):
    line = _delivered_line(fw)
    with pytest.raises(ValidationFailed):
        review_services.create_review(actor=fw.buyer, line=line, rating=5, text=text)
    assert not Review.objects.exists()


def test_product_reviews_and_rating_for_the_product_page(fw):
    first = _delivered_line(fw)
    second = _delivered_line(fw)
    review_services.create_review(actor=fw.buyer, line=first, rating=5, text="很新鲜")
    hidden = review_services.create_review(actor=fw.buyer, line=second, rating=2, text="骂人的话 13812345678")
    with pytest.raises(PermissionDenied):
        review_services.hide_review(actor=fw.manager, review=hidden, reason="含个人信息")
    review_services.hide_review(actor=fw.operator, review=hidden, reason="含个人信息")
    reviews = list(selectors.product_reviews(fw.product))
    assert [r.text for r in reviews] == ["很新鲜"]
    summary = selectors.product_rating(fw.product)
    assert summary.count == 2 and summary.average == Decimal("3.5")
    assert summary.histogram[5] == 1 and summary.histogram[2] == 1
    html = render_to_string("fulfilment/_reviews.html", {"product": fw.product})
    assert "很新鲜" in html and "骂人的话" not in html and "3.5" in html
    assert selectors.product_reviews(fw.product2).count() == 0
    assert "暂无评价" in render_to_string("fulfilment/_reviews.html", {"product": fw.product2})


def test_masking():
    from types import SimpleNamespace

    from zhunong.fulfilment.templatetags.fulfilment_tags import masked_name, masked_phone

    assert masked_name(SimpleNamespace(display_name="王小明", username="u1")) == "王*明"
    assert masked_name(SimpleNamespace(display_name="", username="李四")) == "李*"
    assert masked_name(SimpleNamespace(display_name="", username="")) == "匿名"
    assert masked_phone("13812345678") == "138****5678"
    assert masked_phone("12345") == "*****" and masked_phone(None) == ""


# ---------------------------------------------------------------- pledges


def test_pledge_rules(fw):
    stream = fw.world.live_room([fw.product]).stream
    host_user = stream.host.user
    pledge = pledge_services.create_pledge(actor=host_user, stream=stream, terms="承诺的营养含量不达标，先行赔付",
                                           max_per_claim="200", funded_by="host", product=fw.product)
    assert pledge.host == stream.host and pledge.funded_by == "host"
    with pytest.raises(PermissionDenied):
        pledge_services.create_pledge(actor=fw.buyer, stream=stream, terms="x", max_per_claim="1", funded_by="host")
    with pytest.raises(ValidationFailed):
        pledge_services.create_pledge(actor=host_user, stream=stream, terms="x", max_per_claim="0", funded_by="host")
    with pytest.raises(ValidationFailed):
        pledge_services.create_pledge(actor=host_user, stream=stream, terms="x", max_per_claim="10", funded_by="bank")
    with pytest.raises(ValidationFailed):
        pledge_services.create_pledge(actor=host_user, stream=stream, terms="x", max_per_claim="10", funded_by="host",
                                      product=fw.product2)
    official = fw.world.live_room([], kind="first_secretary").stream
    with pytest.raises(PublicServantMustUseFund):
        pledge_services.create_pledge(actor=official.host.user, stream=official, terms="硒含量不达标先行赔付",
                                      max_per_claim="100", funded_by="host")
    pledge_services.create_pledge(actor=official.host.user, stream=official, terms="硒含量不达标先行赔付",
                                  max_per_claim="100", funded_by="platform_fund")
    ended = fw.world.live_room([], status="ended").stream
    with pytest.raises(StreamClosed):
        pledge_services.create_pledge(actor=ended.host.user, stream=ended, terms="x", max_per_claim="1", funded_by="host")


def test_only_buyers_of_that_stream_can_claim(fw):
    stream = fw.world.live_room([fw.product, fw.product2]).stream
    other_stream = fw.world.live_room([fw.product]).stream
    pledge = pledge_services.create_pledge(actor=stream.host.user, stream=stream, terms="不甜包赔", max_per_claim="50",
                                           funded_by="host", product=fw.product)
    in_stream = paid_order(fw.buyer, [(fw.product, 1)], stream=stream)
    elsewhere = paid_order(fw.buyer, [(fw.product, 1)], stream=other_stream)
    no_stream = paid_order(fw.buyer, [(fw.product, 1)])
    wrong_product = paid_order(fw.buyer, [(fw.product2, 1)], stream=stream)
    for order in (elsewhere, no_stream):
        with pytest.raises(NotBoughtInStream):
            pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=order, amount="10", text="不甜")
    with pytest.raises(ProductNotInOrder):
        pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=wrong_product, amount="10", text="不甜")
    with pytest.raises(NotYourOrder):
        pledge_services.submit_claim(actor=make_user(), pledge=pledge, order=in_stream, amount="10", text="不甜")
    with pytest.raises(ClaimExceedsPledge):
        pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=in_stream, amount="50.01", text="不甜")
    assert not PledgeClaim.objects.exists()
    claim = pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=in_stream, amount="30", text="一点都不甜")
    assert claim.status == "submitted"
    with pytest.raises(ClaimExists):
        pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=in_stream, amount="5", text="再来一次")


def test_an_unpaid_order_gives_no_claim(fw):
    from .conftest import place_order

    stream = fw.world.live_room([fw.product]).stream
    pledge = pledge_services.create_pledge(actor=stream.host.user, stream=stream, terms="包赔", max_per_claim="50",
                                           funded_by="host")
    order = place_order(fw.buyer, [(fw.product, 1)], stream=stream)
    with pytest.raises(NotBoughtInStream):
        pledge_services.submit_claim(actor=fw.buyer, pledge=pledge, order=order, amount="10", text="x")


def test_hosts_never_receive_pledge_money(fw):
    stream = fw.world.live_room([fw.product]).stream
    official = fw.world.live_room([fw.product], kind="first_secretary").stream
    pledge = pledge_services.create_pledge(actor=stream.host.user, stream=stream, terms="包赔", max_per_claim="50",
                                           funded_by="host")
    # the host buying in their own stream
    own = paid_order(stream.host.user, [(fw.product, 1)], stream=stream)
    with pytest.raises(HostCannotReceive):
        pledge_services.submit_claim(actor=stream.host.user, pledge=pledge, order=own, amount="10", text="x")
    # a public-servant host buying in someone else's stream
    theirs = paid_order(official.host.user, [(fw.product, 1)], stream=stream)
    with pytest.raises(HostCannotReceive):
        pledge_services.submit_claim(actor=official.host.user, pledge=pledge, order=theirs, amount="10", text="x")


def test_claim_workflow_with_who_and_why(fw):
    stream = fw.world.live_room([fw.product], kind="first_secretary").stream
    pledge = pledge_services.create_pledge(actor=stream.host.user, stream=stream, terms="硒含量不达标先行赔付",
                                           max_per_claim="100", funded_by="platform_fund", total_cap="150")
    claims = [pledge_services.submit_claim(actor=b, pledge=pledge, order=paid_order(b, [(fw.product, 1)], stream=stream),
                                           amount="100", text="检测报告显示硒含量不足")
              for b in (fw.buyer, make_user(), make_user())]
    claim = claims[0]
    with pytest.raises(ConflictOfInterest):
        pledge_services.start_claim_review(actor=stream.host.user, claim=claim)
    with pytest.raises(PermissionDenied):
        pledge_services.start_claim_review(actor=fw.manager, claim=claim)
    with pytest.raises(PermissionDenied):
        pledge_services.start_claim_review(actor=build_world().operator, claim=claim)
    with pytest.raises(InvalidTransition):  # reviewed before decided
        pledge_services.decide_claim(actor=fw.operator, claim=claim, upheld=True, reason="x")
    pledge_services.start_claim_review(actor=fw.operator, claim=claim)
    with pytest.raises(ValidationFailed):
        pledge_services.decide_claim(actor=fw.operator, claim=claim, upheld=True, reason="")
    pledge_services.decide_claim(actor=fw.operator, claim=claim, upheld=True, reason="县检测中心复检硒含量 0.02mg/kg，低于承诺")
    with pytest.raises(ClaimExceedsPledge):
        pledge_services.compensate_claim(actor=fw.operator, claim=claim, amount="100.01", reference="T1")
    pledge_services.compensate_claim(actor=fw.operator, claim=claim, amount="100", reference="FUND-2020-0001")
    claim.refresh_from_db()
    assert claim.status == "compensated" and claim.paid_from == "platform_fund"
    assert claim.compensated_amount == Decimal("100") and claim.decided_by == fw.operator
    assert [(h.to_status, h.actor_id) for h in claim.history.all()] == [
        ("submitted", fw.buyer.pk), ("under_review", fw.operator.pk), ("upheld", fw.operator.pk),
        ("compensated", fw.operator.pk)]
    # the total cap holds
    second = claims[1]
    pledge_services.start_claim_review(actor=fw.operator, claim=second)
    pledge_services.decide_claim(actor=fw.operator, claim=second, upheld=True, reason="同上")
    with pytest.raises(PledgeCapExceeded):
        pledge_services.compensate_claim(actor=fw.operator, claim=second, amount="60", reference="FUND-2")
    pledge_services.compensate_claim(actor=fw.operator, claim=second, amount="50", reference="FUND-2")
    # rejection is final
    third = claims[2]
    pledge_services.start_claim_review(actor=fw.operator, claim=third)
    pledge_services.decide_claim(actor=fw.operator, claim=third, upheld=False, reason="购买的不是承诺的批次")
    with pytest.raises(InvalidTransition):
        pledge_services.compensate_claim(actor=fw.operator, claim=third, amount="1", reference="X")
    assert CLAIM.allowed("rejected") == frozenset()
    assert selectors.compensated_total(pledge) == Decimal("150")
