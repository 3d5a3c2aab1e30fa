"""Writes for regions, producers, plots and harvest batches. Every write is one transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.db import transaction

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, manages_producer, user_covers_region
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.text import clean_decimal, clean_text

from .errors import OutsideRegion, RegionLevelMismatch, UnknownRegion
from .models import HarvestBatch, Plot, Producer, Region

# Crockford-style alphabet without 0/O/1/I/L/U: easy to read aloud and type from a pack.
TRACE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACE_CODE_LENGTH = 10


def new_trace_code() -> str:
    return "".join(secrets.choice(TRACE_ALPHABET) for _ in range(TRACE_CODE_LENGTH))


def is_valid_trace_code(code: str) -> bool:
    return len(code) == TRACE_CODE_LENGTH and all(c in TRACE_ALPHABET for c in code)


@transaction.atomic
def create_region(*, code: str, name: str, level: str, parent: Region | None = None) -> Region:
    code = clean_text(code, field="code", max_length=20)
    name = clean_text(name, field="name", max_length=64)
    if level not in Region.LEVEL_ORDER:
        raise ValidationFailed("level: unknown level.", details={"field": "level"})
    expected_parent = Region.LEVEL_ORDER.index(level) - 1
    if parent is None and expected_parent >= 0 and level != "province":
        raise RegionLevelMismatch(f"A {level} needs a parent region.")
    if parent is not None and Region.LEVEL_ORDER.index(parent.level) >= Region.LEVEL_ORDER.index(level):
        raise RegionLevelMismatch(f"A {level} cannot sit under a {parent.level}.")
    if Region.objects.filter(code=code).exists():
        raise ValidationFailed("code: a region with this code exists.", details={"field": "code"})
    path = f"{parent.path if parent else '/'}{code}/"
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


def get_region(*, region_id: int | None = None, code: str | None = None) -> Region:
    try:
        if region_id is not None:
            return Region.objects.get(pk=region_id)
        return Region.objects.get(code=code)
    except (Region.DoesNotExist, ValueError, TypeError):
        raise UnknownRegion()


def _require_region_staff(actor: User, region: Region) -> None:
    if not (is_platform_admin(actor) or actor.has_role(roles.COUNTY_OPERATOR)):
        raise PermissionDenied("Only county operators register producers.")
    if not user_covers_region(actor, region):
        raise OutsideRegion()


def _check_producer_writer(actor: User, producer: Producer) -> None:
    if is_platform_admin(actor):
        return
    if actor.has_role(roles.COUNTY_OPERATOR) and user_covers_region(actor, producer.village):
        return
    if actor.has_role(roles.PRODUCER_MANAGER) and manages_producer(actor, producer):
        return
    raise PermissionDenied("You may not change this producer's records.")


@transaction.atomic
def create_producer(*, actor: User, name: str, village: Region, kind: str = Producer.Kind.HOUSEHOLD,
                    registered_poor: bool = False, description: str = "", contact_name: str = "",
                    contact_phone: str = "", payee_name: str = "", payee_account: str = "",
                    shipping_address: str = "", managers: list[User] | None = None) -> Producer:
    if village.level != Region.Level.VILLAGE:
        raise RegionLevelMismatch("A producer belongs to a village.")
    _require_region_staff(actor, village)
    if kind not in Producer.Kind.values:
        raise ValidationFailed("kind: unknown producer kind.", details={"field": "kind"})
    if contact_phone and not contact_phone.replace("-", "").replace("+", "").isdigit():
        raise ValidationFailed("contact_phone: digits only.", details={"field": "contact_phone"})
    producer = Producer.objects.create(
        name=clean_text(name, field="name", max_length=100),
        kind=kind,
        village=village,
        registered_poor=bool(registered_poor),
        description=clean_text(description, field="description", max_length=2000, required=False, multiline=True),
        contact_name=clean_text(contact_name, field="contact_name", max_length=50, required=False),
        contact_phone=clean_text(contact_phone, field="contact_phone", max_length=20, required=False),
        payee_name=clean_text(payee_name, field="payee_name", max_length=50, required=False),
        payee_account=clean_text(payee_account, field="payee_account", max_length=40, required=False),
        shipping_address=clean_text(shipping_address, field="shipping_address", max_length=200, required=False),
    )
    if managers:
        producer.managers.set(managers)
    return producer


@transaction.atomic
def create_plot(*, actor: User, producer: Producer, name: str, area_mu: object, crop: str, variety: str = "",
                soil_type: str = "", location: str = "") -> Plot:
    _check_producer_writer(actor, producer)
    return Plot.objects.create(
        producer=producer,
        name=clean_text(name, field="name", max_length=100),
        area_mu=clean_decimal(area_mu, field="area_mu", max_value=Decimal("1000000")),
        crop=clean_text(crop, field="crop", max_length=50),
        variety=clean_text(variety, field="variety", max_length=50, required=False),
        soil_type=clean_text(soil_type, field="soil_type", max_length=50, required=False),
        location=clean_text(location, field="location", max_length=200, required=False),
    )


@transaction.atomic
def create_batch(*, actor: User, plot: Plot, harvested_on: dt.date, quantity: object, unit: str = "jin",
                 grade: str = "", shelf_life_days: int | None = None, lot_number: str = "") -> HarvestBatch:
    """Record a harvest; it gets a fresh trace code and its first EPCIS event (commissioning)."""
    _check_producer_writer(actor, plot.producer)
    if unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("unit: unknown unit.", details={"field": "unit"})
    if not isinstance(harvested_on, dt.date):
        raise ValidationFailed("harvested_on: must be a date.", details={"field": "harvested_on"})
    if harvested_on > dt.date.today() + dt.timedelta(days=1):
        raise ValidationFailed("harvested_on: cannot be in the future.", details={"field": "harvested_on"})
    if shelf_life_days is not None and (not isinstance(shelf_life_days, int) or not 0 < shelf_life_days <= 3650):
        raise ValidationFailed("shelf_life_days: 1 to 3650.", details={"field": "shelf_life_days"})
    code = new_trace_code()
    while HarvestBatch.objects.filter(trace_code=code).exists():
        code = new_trace_code()
    batch = HarvestBatch.objects.create(
        plot=plot,
        harvested_on=harvested_on,
        quantity=clean_decimal(quantity, field="quantity", max_value=Decimal("100000000")),
        unit=unit,
        grade=clean_text(grade, field="grade", max_length=50, required=False),
        shelf_life_days=shelf_life_days,
        lot_number=clean_text(lot_number, field="lot_number", max_length=40, required=False),
        trace_code=code,
    )
    from zhunong.quality.services import record_harvest_event

    record_harvest_event(batch=batch)
    return batch
