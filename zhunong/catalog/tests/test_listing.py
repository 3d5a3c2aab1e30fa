from decimal import Decimal

import pytest

from zhunong.catalog import services
from zhunong.catalog.errors import BelowCostWithoutReason, NoBatches, NotInspected
from zhunong.catalog.models import ListingStatus, Product
from zhunong.catalog.services import LISTING
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import build_world, make_user

pytestmark = pytest.mark.django_db


def test_transition_table_has_no_dead_ends():
    for state in LISTING.states:
        assert LISTING.allowed(state), state


def test_product_starts_as_draft_and_cannot_be_listed_without_inspection(world):
    product = world.draft_product()
    assert product.status == ListingStatus.DRAFT
    with pytest.raises(InvalidTransition):
        services.list_product(actor=world.operator, product=product)
    services.submit_for_inspection(actor=world.operator, product=product)
    product.refresh_from_db()
    assert product.status == ListingStatus.AWAITING_INSPECTION
    with pytest.raises(NotInspected) as exc:
        services.list_product(actor=world.operator, product=product)
    assert exc.value.details["batches"] == [world.batch.trace_code]


def test_passed_inspection_lists_product_and_records_history(world):
    product = world.draft_product()
    services.submit_for_inspection(actor=world.operator, product=product)
    world.inspect()
    product.refresh_from_db()
    assert product.status == ListingStatus.LISTED
    history = list(product.listing_history.values_list("from_status", "to_status"))
    assert history == [("draft", "awaiting_inspection"), ("awaiting_inspection", "listed")]
    assert product.listing_history.last().actor == world.regulator


def test_failed_inspection_keeps_product_unlisted(world):
    product = world.draft_product()
    services.submit_for_inspection(actor=world.operator, product=product)
    world.inspect(result="fail")
    product.refresh_from_db()
    assert product.status == ListingStatus.AWAITING_INSPECTION
    with pytest.raises(NotInspected):
        services.list_product(actor=world.operator, product=product)


def test_failed_reinspection_delists_a_listed_product(world):
    product = world.listed_product()
    world.inspect(result="fail")
    product.refresh_from_db()
    assert product.status == ListingStatus.DELISTED


def test_new_batch_sends_listed_product_back_to_inspection(world):
    product = world.listed_product()
    new_batch = world.new_batch(grade="明前茶")
    services.add_batch(actor=world.operator, product=product, batch=new_batch)
    product.refresh_from_db()
    assert product.status == ListingStatus.AWAITING_INSPECTION
    world.inspect(new_batch)
    product.refresh_from_db()
    assert product.status == ListingStatus.LISTED


def test_submit_needs_a_batch(world):
    product = world.draft_product(batches=[])
    with pytest.raises(NoBatches):
        services.submit_for_inspection(actor=world.operator, product=product)
    product.refresh_from_db()
    assert product.status == ListingStatus.DRAFT


def test_below_cost_needs_reason_and_changes_nothing(world):
    before = Product.objects.count()
    with pytest.raises(BelowCostWithoutReason):
        world.draft_product(price="9.90", cost_floor="20.00")
    assert Product.objects.count() == before
    assert not IntegrityFlag.objects.exists()


def test_below_cost_with_reason_is_flagged(world):
    product = world.draft_product(price="9.90", cost_floor="20.00", below_cost_reason="临期清仓")
    flag = IntegrityFlag.objects.get()
    assert flag.kind == IntegrityFlag.Kind.BELOW_COST
    assert flag.subject == product
    assert product.below_cost_reason == "临期清仓"


def test_price_change_below_cost_without_reason_is_refused(world):
    product = world.listed_product()
    with pytest.raises(BelowCostWithoutReason):
        services.change_price(actor=world.operator, product=product, price="5")
    product.refresh_from_db()
    assert product.price == Decimal("39.90")
    assert product.price_history.count() == 1


@pytest.mark.parametrize("price", ["-1", "0", "abc", "NaN", "Infinity", "1e12", "1.001", ""])
def test_bad_prices_are_rejected(world, price):
    with pytest.raises(ValidationFailed):
        world.draft_product(price=price)
    assert not Product.objects.exists()


@pytest.mark.parametrize("name", ["", "x" * 101, "蓝莓\x00", "蓝莓\u202e"])
def test_bad_names_are_rejected(world, name):
    with pytest.raises(ValidationFailed):
        world.draft_product(name=name)


def test_operator_of_another_county_cannot_touch_product(world):
    other = build_world()
    product = world.listed_product()
    with pytest.raises(PermissionDenied):
        services.delist_product(actor=other.operator, product=product, reason="test")
    with pytest.raises(PermissionDenied):
        services.change_price(actor=other.operator, product=product, price="30")


def test_buyer_cannot_create_products(world):
    buyer = make_user()
    with pytest.raises(PermissionDenied):
        services.create_product(actor=buyer, name="蓝莓", price="10", cost_floor="5", origin=world.county,
                                producers=[world.producer])
