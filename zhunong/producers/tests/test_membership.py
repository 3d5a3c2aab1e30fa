"""Co-op membership with dates, share schemes (batch / quantity / fixed) and members' deliveries."""

import datetime as dt
from decimal import Decimal

import pytest

from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.producers import selectors, services
from zhunong.producers.errors import (
    AlreadyMember,
    InvalidShares,
    NotACooperative,
    NotAMember,
    ShareSchemeExists,
)
from zhunong.producers.models import FixedShare, Membership, Producer, ShareScheme
from zhunong.testing import build_world

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 1)


@pytest.fixture
def coop(world):
    return services.create_producer(actor=world.operator, name="山里村合作社", village=world.village,
                                    kind=Producer.Kind.COOPERATIVE)


def household(world, name):  # noqa: ANN001, ANN201
    return services.create_producer(actor=world.operator, name=name, village=world.village)


def test_join_and_leave_record_dates_and_keep_the_members_list(world, coop):
    row = services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on=D)
    assert list(coop.members.all()) == [world.producer]
    assert row.active_on(D) and not row.active_on(D - dt.timedelta(days=1))
    with pytest.raises(AlreadyMember):
        services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on=D)
    services.leave_coop(actor=world.operator, coop=coop, member=world.producer, left_on=D + dt.timedelta(days=10))
    assert list(coop.members.all()) == []
    assert selectors.members_on(coop.pk, D + dt.timedelta(days=9)) == {world.producer.pk}
    assert selectors.members_on(coop.pk, D + dt.timedelta(days=10)) == set()
    with pytest.raises(NotAMember):
        services.leave_coop(actor=world.operator, coop=coop, member=world.producer, left_on=D)
    # Re-joining inside the closed membership would count the household twice.
    with pytest.raises(ValidationFailed):
        services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on=D + dt.timedelta(days=5))
    services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on=D + dt.timedelta(days=20))
    assert Membership.objects.filter(coop=coop).count() == 2


def test_membership_rules(world, coop):
    with pytest.raises(NotACooperative):
        services.join_coop(actor=world.operator, coop=world.producer, member=coop, joined_on=D)
    with pytest.raises(ValidationFailed):  # a co-op is not a household
        services.join_coop(actor=world.operator, coop=coop, member=coop, joined_on=D)
    other = build_world()
    with pytest.raises(ValidationFailed):  # another county's household
        services.join_coop(actor=world.operator, coop=coop, member=other.producer, joined_on=D)
    with pytest.raises(PermissionDenied):
        services.join_coop(actor=other.operator, coop=coop, member=world.producer, joined_on=D)
    with pytest.raises(ValidationFailed):
        services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on="2026-03-01")
    assert not Membership.objects.filter(coop=coop).exists()


def test_setting_members_directly_opens_and_closes_memberships(world):
    coop = services.create_producer(actor=world.operator, name="直接社", village=world.village,
                                    kind=Producer.Kind.COOPERATIVE, members=[world.producer])
    assert Membership.objects.get(coop=coop).left_on is None
    services.update_producer(actor=world.operator, producer=coop, members=[])
    assert Membership.objects.get(coop=coop).left_on is not None


def test_fixed_scheme_needs_a_positive_share_for_every_member(world, coop):
    b = household(world, "二户")
    for member in (world.producer, b):
        services.join_coop(actor=world.operator, coop=coop, member=member, joined_on=D)
    with pytest.raises(InvalidShares) as missing:
        services.set_share_scheme(actor=world.operator, coop=coop, basis="fixed", effective_from=D,
                                  shares={world.producer.pk: "1"})
    assert missing.value.details["missing"] == [b.pk]
    with pytest.raises(InvalidShares):
        services.set_share_scheme(actor=world.operator, coop=coop, basis="fixed", effective_from=D,
                                  shares={world.producer.pk: "1", b.pk: "0"})
    with pytest.raises(InvalidShares):
        services.set_share_scheme(actor=world.operator, coop=coop, basis="quantity", effective_from=D,
                                  shares={world.producer.pk: "1"})
    with pytest.raises(ValidationFailed):
        services.set_share_scheme(actor=world.operator, coop=coop, basis="lottery", effective_from=D)
    assert not ShareScheme.objects.exists()
    scheme = services.set_share_scheme(actor=world.operator, coop=coop, basis="fixed", effective_from=D,
                                       shares={world.producer.pk: "3", b.pk: "1"}, note="理事会决议")
    assert scheme.recorded_by == world.operator
    assert FixedShare.objects.filter(scheme=scheme).count() == 2
    with pytest.raises(ShareSchemeExists):
        services.set_share_scheme(actor=world.operator, coop=coop, basis="quantity", effective_from=D)
    assert selectors.share_weights(coop_id=coop.pk, day=D) == {world.producer.pk: Decimal("3"), b.pk: Decimal("1")}
    assert selectors.share_weights(coop_id=coop.pk, day=D - dt.timedelta(days=1)) == {}


def test_schemes_change_with_their_dates_and_history_stays(world, coop):
    b = household(world, "二户")
    for member in (world.producer, b):
        services.join_coop(actor=world.operator, coop=coop, member=member, joined_on=D)
    services.set_share_scheme(actor=world.operator, coop=coop, basis="fixed", effective_from=D,
                              shares={world.producer.pk: "1", b.pk: "1"})
    later = D + dt.timedelta(days=30)
    services.set_share_scheme(actor=world.operator, coop=coop, basis="quantity", effective_from=later)
    services.record_delivery(actor=world.operator, coop=coop, member=b, delivered_on=later, quantity="40")
    assert selectors.share_weights(coop_id=coop.pk, day=later - dt.timedelta(days=1)) == {
        world.producer.pk: Decimal("1"), b.pk: Decimal("1")}
    assert selectors.share_weights(coop_id=coop.pk, day=later) == {b.pk: Decimal("40")}
    assert ShareScheme.objects.filter(coop=coop).count() == 2


def test_quantity_scheme_counts_deliveries_of_members_since_it_took_effect(world, coop):
    b = household(world, "二户")
    for member in (world.producer, b):
        services.join_coop(actor=world.operator, coop=coop, member=member, joined_on=D)
    services.record_delivery(actor=world.operator, coop=coop, member=b, delivered_on=D, quantity="500")
    services.set_share_scheme(actor=world.operator, coop=coop, basis="quantity", effective_from=D + dt.timedelta(days=1))
    services.record_delivery(actor=world.operator, coop=coop, member=world.producer, delivered_on=D + dt.timedelta(days=2),
                             quantity="30", batch=world.batch)
    services.record_delivery(actor=world.operator, coop=coop, member=b, delivered_on=D + dt.timedelta(days=3),
                             quantity="10")
    day = D + dt.timedelta(days=2)
    assert selectors.share_weights(coop_id=coop.pk, day=day) == {world.producer.pk: Decimal("30")}
    assert selectors.share_weights(coop_id=coop.pk, day=day + dt.timedelta(days=1)) == {
        world.producer.pk: Decimal("30"), b.pk: Decimal("10")}
    services.leave_coop(actor=world.operator, coop=coop, member=b, left_on=day + dt.timedelta(days=2))
    assert selectors.share_weights(coop_id=coop.pk, day=day + dt.timedelta(days=2)) == {
        world.producer.pk: Decimal("30")}


def test_deliveries_are_validated(world, coop):
    outsider = household(world, "非社员")
    services.join_coop(actor=world.operator, coop=coop, member=world.producer, joined_on=D)
    with pytest.raises(NotAMember):
        services.record_delivery(actor=world.operator, coop=coop, member=outsider, delivered_on=D, quantity="5")
    with pytest.raises(NotAMember):  # before joining
        services.record_delivery(actor=world.operator, coop=coop, member=world.producer,
                                 delivered_on=D - dt.timedelta(days=1), quantity="5")
    with pytest.raises(ValidationFailed):
        services.record_delivery(actor=world.operator, coop=coop, member=world.producer, delivered_on=D, quantity="0")
    services.join_coop(actor=world.operator, coop=coop, member=outsider, joined_on=D)
    with pytest.raises(ValidationFailed):  # someone else's batch
        services.record_delivery(actor=world.operator, coop=coop, member=outsider, delivered_on=D, quantity="5",
                                 batch=world.batch)


def test_batch_scheme_weights_members_behind_the_product(world, coop):
    b = household(world, "二户")
    b_plot = services.create_plot(actor=world.operator, producer=b, name="西坡", area_mu="3", crop="蓝莓")
    b_batch = services.create_batch(actor=world.operator, plot=b_plot, harvested_on=D, quantity="200")
    for member in (world.producer, b):
        services.join_coop(actor=world.operator, coop=coop, member=member, joined_on=D)
    services.set_share_scheme(actor=world.operator, coop=coop, basis="batch", effective_from=D)
    assert selectors.share_weights(coop_id=coop.pk, day=D, batch_ids=[world.batch.pk, b_batch.pk]) == {
        world.producer.pk: Decimal("800"), b.pk: Decimal("200")}
    assert selectors.share_weights(coop_id=coop.pk, day=D, batch_ids=[b_batch.pk]) == {b.pk: Decimal("200")}
    assert selectors.share_weights(coop_id=coop.pk, day=D, batch_ids=[]) == {}
