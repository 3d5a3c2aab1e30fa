"""Producer-side services added for the API and admin: updates, shared validation, cooperative members."""

import datetime as dt
from decimal import Decimal

import pytest

from zhunong.accounts import roles
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.producers import services
from zhunong.producers.errors import OutsideRegion, RegionLevelMismatch
from zhunong.producers.models import Producer, Region
from zhunong.testing import build_world, make_admin, make_user

pytestmark = pytest.mark.django_db


def test_update_producer_changes_given_fields_only(world):
    services.update_producer(actor=world.operator, producer=world.producer, name="鲁家果园", contact_phone="0532-1234")
    world.producer.refresh_from_db()
    assert (world.producer.name, world.producer.contact_phone) == ("鲁家果园", "0532-1234")
    assert world.producer.payee_account == "6222020200001234"
    assert world.producer.registered_poor is True


@pytest.mark.parametrize("changes", [{"name": ""}, {"name": "x\x00"}, {"kind": "alien"},
                                     {"contact_phone": "abc"}, {"payee_account": "62/22"}, {"village_id": 1}])
def test_update_producer_refuses_bad_values_and_changes_nothing(world, changes):
    with pytest.raises(ValidationFailed):
        services.update_producer(actor=world.operator, producer=world.producer, **changes)
    world.producer.refresh_from_db()
    assert world.producer.name == "鲁家蓝莓园"


def test_update_producer_needs_rights_in_old_and_new_village(world):
    other = build_world()
    with pytest.raises(OutsideRegion):
        services.update_producer(actor=world.operator, producer=world.producer, village=other.village)
    with pytest.raises(OutsideRegion):
        services.update_producer(actor=other.operator, producer=world.producer, name="别人改")
    with pytest.raises(RegionLevelMismatch):
        services.update_producer(actor=world.operator, producer=world.producer, village=world.county)
    with pytest.raises(PermissionDenied):
        services.update_producer(actor=world.regulator, producer=world.producer, name="监管改")
    moved = services.update_producer(actor=make_admin(), producer=world.producer, village=other.village)
    assert moved.village == other.village


def test_managers_must_hold_the_manager_role(world):
    buyer = make_user(roles.BUYER)
    manager = make_user(roles.PRODUCER_MANAGER)
    with pytest.raises(ValidationFailed):
        services.update_producer(actor=world.operator, producer=world.producer, managers=[buyer])
    services.update_producer(actor=world.operator, producer=world.producer, managers=[manager])
    assert list(world.producer.managers.all()) == [manager]


def test_cooperative_members_are_households_of_its_county(world):
    coop = services.create_producer(actor=world.operator, name="洋河合作社", village=world.village,
                                    kind=Producer.Kind.COOPERATIVE, members=[world.producer])
    assert list(coop.members.all()) == [world.producer]
    other = build_world()
    with pytest.raises(ValidationFailed):
        services.update_producer(actor=make_admin(), producer=coop, members=[other.producer])
    with pytest.raises(ValidationFailed):
        services.update_producer(actor=world.operator, producer=coop, members=[coop])
    with pytest.raises(ValidationFailed):
        services.create_producer(actor=world.operator, name="农户", village=world.village,
                                 members=[world.producer])
    assert list(coop.members.all()) == [world.producer]


def test_update_plot_and_its_permissions(world):
    services.update_plot(actor=world.operator, plot=world.plot, area_mu="15.25", variety="蓝丰")
    world.plot.refresh_from_db()
    assert (world.plot.area_mu, world.plot.variety, world.plot.crop) == (Decimal("15.25"), "蓝丰", "蓝莓")
    with pytest.raises(ValidationFailed):
        services.update_plot(actor=world.operator, plot=world.plot, area_mu="-1")
    with pytest.raises(ValidationFailed):
        services.update_plot(actor=world.operator, plot=world.plot, producer=world.producer)
    with pytest.raises(PermissionDenied):
        services.update_plot(actor=world.regulator, plot=world.plot, name="改")
    world.plot.refresh_from_db()
    assert world.plot.area_mu == Decimal("15.25")


def test_batches_before_2000_are_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        world.new_batch(harvested_on=dt.date(1, 1, 1))
    assert exc.value.details == {"field": "harvested_on"}
    with pytest.raises(ValidationFailed):
        world.new_batch(harvested_on=dt.datetime(2024, 5, 1, 8, 0))  # a datetime is not a date
    assert world.new_batch(harvested_on=services.EARLIEST_HARVEST).harvested_on == services.EARLIEST_HARVEST


def test_region_validation_and_rename(db):
    province = services.create_region(code="RX1", name="试验省", level="province")
    with pytest.raises(ValidationFailed):
        services.create_region(code="RX1", name="重复", level="province")
    with pytest.raises(ValidationFailed):
        services.create_region(code="R X", name="空格", level="city", parent=province)
    with pytest.raises(RegionLevelMismatch):
        services.create_region(code="RX2", name="无上级", level="county")
    with pytest.raises(PermissionDenied):
        services.rename_region(actor=make_user(roles.COUNTY_OPERATOR, region=province), region=province, name="改")
    services.rename_region(actor=make_admin(), region=province, name="新省")
    assert Region.objects.get(code="RX1").name == "新省"


def test_check_can_register_producer_is_what_create_checks(world):
    other = build_world()
    services.check_can_register_producer(actor=world.operator, village=world.village)
    with pytest.raises(OutsideRegion):
        services.check_can_register_producer(actor=world.operator, village=other.village)
    with pytest.raises(PermissionDenied):
        services.check_can_register_producer(actor=make_user(roles.PRODUCER_MANAGER), village=world.village)
