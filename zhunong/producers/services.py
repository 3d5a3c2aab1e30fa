"""Writes for regions, producers, plots and harvest batches. Every write is one transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from zhunong.accounts import policy, roles
from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.text import clean_decimal, clean_text

from .errors import (
    AlreadyMember,
    InvalidShares,
    NotACooperative,
    NotAMember,
    OutsideRegion,
    RegionLevelMismatch,
    ShareSchemeExists,
)
from .models import FixedShare, HarvestBatch, MemberDelivery, Membership, Plot, Producer, Region, ShareScheme
from .signals import batch_harvested
from .trace_codes import new_trace_code

# A harvest record older than this is a typing error, not a batch anyone still sells from (and dates
# near year 1 overflow when the harvest event's local time is converted to UTC).
EARLIEST_HARVEST = dt.date(2000, 1, 1)

def clean_region_fields(*, code: str, name: str, level: str, parent: Region | None = None) -> dict:
    """Validate a new region (shared by create_region and the admin form); return clean values."""
    code = clean_text(code, field="code", max_length=20)
    name = clean_text(name, field="name", max_length=64)
    if not all(c.isalnum() or c in "-_" for c in code):
        raise ValidationFailed("code: letters, digits, - and _ only.", details={"field": "code"})
    if level not in Region.LEVEL_ORDER:
        raise ValidationFailed("level: unknown level.", details={"field": "level"})
    if parent is None and level != "province":
        raise RegionLevelMismatch(f"A {level} needs a parent region.", details={"field": "parent"})
    if parent is not None and Region.LEVEL_ORDER.index(parent.level) >= Region.LEVEL_ORDER.index(level):
        raise RegionLevelMismatch(f"A {level} cannot sit under a {parent.level}.", details={"field": "parent"})
    if Region.objects.filter(code=code).exists():
        raise ValidationFailed("code: a region with this code exists.", details={"field": "code"})
    return {"code": code, "name": name, "level": level, "parent": parent}


@transaction.atomic
def create_region(*, code: str, name: str, level: str, parent: Region | None = None) -> Region:
    values = clean_region_fields(code=code, name=name, level=level, parent=parent)
    path = f"{parent.path if parent else '/'}{values['code']}/"
    return Region.objects.create(path=path, **values)


def check_can_register_producer(*, actor: User, village: Region) -> None:
    """Who may register (or move) a producer in this village: a platform admin or its county's operator."""
    if village.level != Region.Level.VILLAGE:
        raise RegionLevelMismatch("A producer belongs to a village.", details={"field": "village"})
    policy.require(actor, "producer.register", village,
                   error=PermissionDenied("Only county operators register producers."), outside=OutsideRegion)


def check_producer_writer(*, actor: User, producer: Producer) -> None:
    """Who may add or change a producer's plots and batches: admin, its county's operator, its manager."""
    policy.require(actor, "producer.change", producer,
                   error=PermissionDenied("You may not change this producer's records."))


def check_members(*, kind: str, village: Region, members: list[Producer], producer: Producer | None = None) -> None:
    """A cooperative's members are households of its own county; other kinds have no members."""
    if not members:
        return
    if kind != Producer.Kind.COOPERATIVE:
        raise ValidationFailed("members: only a cooperative has members.", details={"field": "members"})
    county = village.ancestor_at("county") or village
    for member in members:
        if producer is not None and member.pk == producer.pk:
            raise ValidationFailed("members: a cooperative is not its own member.", details={"field": "members"})
        if member.kind != Producer.Kind.HOUSEHOLD:
            raise ValidationFailed("members: members are households.", details={"field": "members"})
        if not member.village.is_within(county):
            raise ValidationFailed("members: a member is outside the cooperative's county.",
                                   details={"field": "members"})


def clean_producer_fields(*, name: str, kind: str = Producer.Kind.HOUSEHOLD, registered_poor: bool = False,
                          description: str = "", contact_name: str = "", contact_phone: str = "",
                          payee_name: str = "", payee_account: str = "", shipping_address: str = "",
                          managers: list[User] | None = None) -> dict:
    """Validate a producer's own fields (shared by create, update and the admin form); return clean values."""
    if kind not in Producer.Kind.values:
        raise ValidationFailed("kind: unknown producer kind.", details={"field": "kind"})
    contact_phone = clean_text(contact_phone, field="contact_phone", max_length=20, required=False)
    if contact_phone and not contact_phone.replace("-", "").replace("+", "").isdigit():
        raise ValidationFailed("contact_phone: digits only.", details={"field": "contact_phone"})
    payee_account = clean_text(payee_account, field="payee_account", max_length=40, required=False)
    if payee_account and not payee_account.replace(" ", "").isalnum():
        raise ValidationFailed("payee_account: letters and digits only.", details={"field": "payee_account"})
    for manager in managers or []:
        if not manager.has_role(roles.PRODUCER_MANAGER):
            raise ValidationFailed("managers: a manager needs the producer-manager role.",
                                   details={"field": "managers"})
    return {
        "name": clean_text(name, field="name", max_length=100),
        "kind": kind,
        "registered_poor": bool(registered_poor),
        "description": clean_text(description, field="description", max_length=2000, required=False,
                                  multiline=True),
        "contact_name": clean_text(contact_name, field="contact_name", max_length=50, required=False),
        "contact_phone": contact_phone,
        "payee_name": clean_text(payee_name, field="payee_name", max_length=50, required=False),
        "payee_account": payee_account,
        "shipping_address": clean_text(shipping_address, field="shipping_address", max_length=200,
                                       required=False),
    }


@transaction.atomic
def create_producer(*, actor: User, name: str, village: Region, kind: str = Producer.Kind.HOUSEHOLD,
                    registered_poor: bool = False, description: str = "", contact_name: str = "",
                    contact_phone: str = "", payee_name: str = "", payee_account: str = "",
                    shipping_address: str = "", managers: list[User] | None = None,
                    members: list[Producer] | None = None) -> Producer:
    check_can_register_producer(actor=actor, village=village)
    values = clean_producer_fields(
        name=name, kind=kind, registered_poor=registered_poor, description=description,
        contact_name=contact_name, contact_phone=contact_phone, payee_name=payee_name,
        payee_account=payee_account, shipping_address=shipping_address, managers=managers)
    check_members(kind=values["kind"], village=village, members=list(members or []))
    producer = Producer.objects.create(village=village, **values)
    if managers:
        producer.managers.set(managers)
    if members:
        producer.members.set(members)
        _sync_memberships(coop=producer, actor=actor)
    return producer


_PRODUCER_FIELDS = ("name", "kind", "registered_poor", "description", "contact_name", "contact_phone",
                    "payee_name", "payee_account", "shipping_address")


@transaction.atomic
def update_producer(*, actor: User, producer: Producer, village: Region | None = None,
                    managers: list[User] | None = None, members: list[Producer] | None = None,
                    **changes: object) -> Producer:
    """Change a producer's details; only the keyword arguments given change.

    Moving a producer to another village needs the right to register producers there as well.
    """
    unknown = set(changes) - set(_PRODUCER_FIELDS)
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]}: not a producer field.", details={"field": sorted(unknown)[0]})
    producer = Producer.objects.select_for_update().select_related("village").get(pk=producer.pk)
    check_can_register_producer(actor=actor, village=producer.village)
    if village is not None and village.pk != producer.village_id:
        check_can_register_producer(actor=actor, village=village)
        producer.village = village
    current = {f: getattr(producer, f) for f in _PRODUCER_FIELDS}
    current.update({k: v for k, v in changes.items() if v is not None})
    values = clean_producer_fields(**current, managers=managers)
    check_members(kind=values["kind"], village=producer.village,
                  members=list(producer.members.all()) if members is None else list(members), producer=producer)
    for field_name, value in values.items():
        setattr(producer, field_name, value)
    producer.save()
    if managers is not None:
        producer.managers.set(managers)
    if members is not None:
        producer.members.set(members)
        _sync_memberships(coop=producer, actor=actor)
    return producer


def clean_plot_fields(*, name: str, area_mu: object, crop: str, variety: str = "", soil_type: str = "",
                      location: str = "") -> dict:
    """Validate a plot's fields (shared by create, update and the admin form); return clean values."""
    return {
        "name": clean_text(name, field="name", max_length=100),
        "area_mu": clean_decimal(area_mu, field="area_mu", max_value=Decimal("1000000")),
        "crop": clean_text(crop, field="crop", max_length=50),
        "variety": clean_text(variety, field="variety", max_length=50, required=False),
        "soil_type": clean_text(soil_type, field="soil_type", max_length=50, required=False),
        "location": clean_text(location, field="location", max_length=200, required=False),
    }


@transaction.atomic
def create_plot(*, actor: User, producer: Producer, name: str, area_mu: object, crop: str, variety: str = "",
                soil_type: str = "", location: str = "") -> Plot:
    check_producer_writer(actor=actor, producer=producer)
    return Plot.objects.create(producer=producer, **clean_plot_fields(
        name=name, area_mu=area_mu, crop=crop, variety=variety, soil_type=soil_type, location=location))


_PLOT_FIELDS = ("name", "area_mu", "crop", "variety", "soil_type", "location")


@transaction.atomic
def update_plot(*, actor: User, plot: Plot, **changes: object) -> Plot:
    """Change a plot's description; it stays with its producer (batches point at it)."""
    unknown = set(changes) - set(_PLOT_FIELDS)
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]}: not a plot field.", details={"field": sorted(unknown)[0]})
    plot = Plot.objects.select_for_update().select_related("producer__village").get(pk=plot.pk)
    check_producer_writer(actor=actor, producer=plot.producer)
    current = {f: getattr(plot, f) for f in _PLOT_FIELDS}
    current.update({k: v for k, v in changes.items() if v is not None})
    for field_name, value in clean_plot_fields(**current).items():
        setattr(plot, field_name, value)
    plot.save()
    return plot


def clean_batch_fields(*, harvested_on: dt.date, quantity: object, unit: str = "jin", grade: str = "",
                       shelf_life_days: int | None = None, lot_number: str = "") -> dict:
    """Validate a harvest batch's fields (shared by create and the admin form); return clean values."""
    if unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("unit: unknown unit.", details={"field": "unit"})
    if not isinstance(harvested_on, dt.date) or isinstance(harvested_on, dt.datetime):
        raise ValidationFailed("harvested_on: must be a date.", details={"field": "harvested_on"})
    if harvested_on > dt.date.today() + dt.timedelta(days=1):
        raise ValidationFailed("harvested_on: cannot be in the future.", details={"field": "harvested_on"})
    if harvested_on < EARLIEST_HARVEST:
        raise ValidationFailed(f"harvested_on: not before {EARLIEST_HARVEST:%Y-%m-%d}.",
                               details={"field": "harvested_on"})
    if shelf_life_days is not None and (not isinstance(shelf_life_days, int) or isinstance(shelf_life_days, bool)
                                        or not 0 < shelf_life_days <= 3650):
        raise ValidationFailed("shelf_life_days: 1 to 3650.", details={"field": "shelf_life_days"})
    return {
        "harvested_on": harvested_on,
        "quantity": clean_decimal(quantity, field="quantity", max_value=Decimal("100000000")),
        "unit": unit,
        "grade": clean_text(grade, field="grade", max_length=50, required=False),
        "shelf_life_days": shelf_life_days,
        "lot_number": clean_text(lot_number, field="lot_number", max_length=40, required=False),
    }


@transaction.atomic
def create_batch(*, actor: User, plot: Plot, harvested_on: dt.date, quantity: object, unit: str = "jin",
                 grade: str = "", shelf_life_days: int | None = None, lot_number: str = "") -> HarvestBatch:
    """Record a harvest; it gets a fresh trace code and its first EPCIS event (commissioning, recorded by
    quality on the `batch_harvested` signal).

    A batch is not edited afterwards: its trace code is printed and its events are the chain's record.
    """
    check_producer_writer(actor=actor, producer=plot.producer)
    values = clean_batch_fields(harvested_on=harvested_on, quantity=quantity, unit=unit, grade=grade,
                                shelf_life_days=shelf_life_days, lot_number=lot_number)
    code = new_trace_code()
    while HarvestBatch.objects.filter(trace_code=code).exists():
        code = new_trace_code()
    batch = HarvestBatch.objects.create(plot=plot, trace_code=code, **values)
    # quality records the commissioning event in this transaction.
    batch_harvested.send(sender=HarvestBatch, batch=batch)
    return batch


@transaction.atomic
def rename_region(*, actor: User, region: Region, name: str) -> Region:
    """Only the name of a region changes; its code and place in the tree are what paths are built from."""
    policy.require(actor, "region.rename", region, error=PermissionDenied("Only platform admins change regions."))
    region.name = clean_text(name, field="name", max_length=64)
    region.save(update_fields=["name"])
    return region


# ------------------------------------------------------------------------------------ co-op membership
# Who belongs to a co-op and since when (Membership), how the co-op divides what it is paid (ShareScheme,
# FixedShare) and what members delivered to it (MemberDelivery). insights attributes the co-op's sales
# to its member households with these (docs/insights.md "Income that reaches households").

MAX_SHARE = Decimal("100000")


def _check_coop(*, actor: User, coop: Producer) -> None:
    if coop.kind != Producer.Kind.COOPERATIVE:
        raise NotACooperative(details={"field": "coop"})
    check_producer_writer(actor=actor, producer=coop)


def _check_day(day: object, *, field: str) -> dt.date:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationFailed(f"{field}: must be a date.", details={"field": field})
    if day < EARLIEST_HARVEST or day > dt.date.today() + dt.timedelta(days=366):
        raise ValidationFailed(f"{field}: out of range.", details={"field": field})
    return day


def _sync_memberships(*, coop: Producer, actor: User) -> None:
    """After the `members` relation was set directly (create/update_producer): open a membership from
    today for each new member, close the open ones of those who left."""
    today = dt.date.today()
    current = set(coop.members.values_list("pk", flat=True))
    open_rows = {m.member_id: m for m in Membership.objects.filter(coop=coop, left_on__isnull=True)}
    for member_id in current - set(open_rows):
        Membership.objects.create(coop=coop, member_id=member_id, joined_on=today, recorded_by=actor)
    for member_id in set(open_rows) - current:
        row = open_rows[member_id]
        row.left_on = max(today, row.joined_on)
        row.save(update_fields=["left_on"])


@transaction.atomic
def join_coop(*, actor: User, coop: Producer, member: Producer, joined_on: dt.date) -> Membership:
    """A household joins a co-op (of its own county) on a date."""
    _check_coop(actor=actor, coop=coop)
    joined_on = _check_day(joined_on, field="joined_on")
    check_members(kind=coop.kind, village=coop.village, members=[member], producer=coop)
    Producer.objects.select_for_update().filter(pk=coop.pk).first()  # one membership change at a time
    if Membership.objects.filter(coop=coop, member=member, left_on__isnull=True).exists():
        raise AlreadyMember(details={"field": "member"})
    if Membership.objects.filter(coop=coop, member=member, left_on__gt=joined_on).exists():
        raise ValidationFailed("joined_on: overlaps an earlier membership.", details={"field": "joined_on"})
    row = Membership.objects.create(coop=coop, member=member, joined_on=joined_on, recorded_by=actor)
    coop.members.add(member)
    return row


@transaction.atomic
def leave_coop(*, actor: User, coop: Producer, member: Producer, left_on: dt.date) -> Membership:
    """A household leaves a co-op: from `left_on` on it gets no share of the co-op's sales."""
    _check_coop(actor=actor, coop=coop)
    left_on = _check_day(left_on, field="left_on")
    row = Membership.objects.select_for_update().filter(coop=coop, member=member, left_on__isnull=True).first()
    if row is None:
        raise NotAMember(details={"field": "member"})
    if left_on < row.joined_on:
        raise ValidationFailed("left_on: before the member joined.", details={"field": "left_on"})
    row.left_on = left_on
    row.save(update_fields=["left_on"])
    coop.members.remove(member)
    return row


def _members_on(coop: Producer, day: dt.date) -> set[int]:
    """The members of the co-op on `day` (joined on or before it, not yet left)."""
    return set(Membership.objects.filter(Q(left_on__isnull=True) | Q(left_on__gt=day), coop=coop,
                                         joined_on__lte=day).values_list("member_id", flat=True))


@transaction.atomic
def set_share_scheme(*, actor: User, coop: Producer, basis: str, effective_from: dt.date,
                     shares: dict[int, object] | None = None, note: str = "") -> ShareScheme:
    """Record the co-op's choice of how its income is divided, from `effective_from` on.

    `batch`: among the members whose harvest batches the product sold from, by batch quantity;
    `quantity`: by the quantity each member delivered to the co-op since the scheme took effect;
    `fixed`: by `shares` ({member id: weight}), one for every member on `effective_from`.
    Earlier choices stay recorded; a day already holding a scheme is refused (record another day).
    """
    _check_coop(actor=actor, coop=coop)
    if basis not in ShareScheme.Basis.values:
        raise ValidationFailed("basis: batch, quantity or fixed.", details={"field": "basis"})
    effective_from = _check_day(effective_from, field="effective_from")
    note = clean_text(note, field="note", max_length=300, required=False)
    Producer.objects.select_for_update().filter(pk=coop.pk).first()
    if ShareScheme.objects.filter(coop=coop, effective_from=effective_from).exists():
        raise ShareSchemeExists(details={"field": "effective_from"})
    cleaned: dict[int, Decimal] = {}
    if basis == ShareScheme.Basis.FIXED:
        members = _members_on(coop, effective_from)
        given = {int(k): v for k, v in (shares or {}).items()}
        if not members:
            raise InvalidShares("The co-operative has no members on that date.", details={"field": "shares"})
        if set(given) != members:
            missing, extra = sorted(members - set(given)), sorted(set(given) - members)
            raise InvalidShares(details={"field": "shares", "missing": missing, "not_members": extra})
        for member_id, value in given.items():
            try:
                cleaned[member_id] = clean_decimal(value, field="shares", max_value=MAX_SHARE, places=4)
            except ValidationFailed:
                raise InvalidShares("Every share is a number more than zero.",
                                    details={"field": "shares", "member": member_id})
    elif shares:
        raise InvalidShares("Shares are given only for a fixed scheme.", details={"field": "shares"})
    scheme = ShareScheme.objects.create(coop=coop, basis=basis, effective_from=effective_from, note=note,
                                        recorded_by=actor)
    FixedShare.objects.bulk_create(FixedShare(scheme=scheme, member_id=k, share=v) for k, v in sorted(cleaned.items()))
    return scheme


@transaction.atomic
def record_delivery(*, actor: User, coop: Producer, member: Producer, delivered_on: dt.date, quantity: object,
                    unit: str = HarvestBatch.Unit.JIN, batch: HarvestBatch | None = None) -> MemberDelivery:
    """A member delivers produce to the co-op (交售); a `quantity` scheme divides income by these."""
    _check_coop(actor=actor, coop=coop)
    delivered_on = _check_day(delivered_on, field="delivered_on")
    if delivered_on > dt.date.today() + dt.timedelta(days=1):
        raise ValidationFailed("delivered_on: cannot be in the future.", details={"field": "delivered_on"})
    if unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("unit: unknown unit.", details={"field": "unit"})
    quantity = clean_decimal(quantity, field="quantity", max_value=Decimal("100000000"))
    if quantity <= 0:
        raise ValidationFailed("quantity: more than zero.", details={"field": "quantity"})
    if member.pk not in _members_on(coop, delivered_on):
        raise NotAMember(details={"field": "member"})
    if batch is not None and batch.plot.producer_id != member.pk:
        raise ValidationFailed("batch: not a batch of this member.", details={"field": "batch"})
    return MemberDelivery.objects.create(coop=coop, member=member, batch=batch, delivered_on=delivered_on,
                                         quantity=quantity, unit=unit, recorded_by=actor)
