"""Writes for inspections and trace events."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, user_covers_region
from zhunong.core.audit import record_action
from zhunong.core.errors import ValidationFailed
from zhunong.core.text import clean_decimal, clean_text
from zhunong.producers.models import HarvestBatch, Region

from .errors import (
    CannotRecordChain,
    CertificateTooLarge,
    CertificateTypeNotAllowed,
    DuplicateSampleCode,
    InputExceedsBatch,
    InspectorOutsideRegion,
    NotAnInspector,
    ResultContradictsItems,
)
from .models import Inspection, InspectionItem, TraceEvent
from .rules import CERTIFICATE_KINDS, certificate_kind, image_is_valid, in_unit, is_valid_lot
from .selectors import consumed_quantity, transformation_outputs
from .signals import inspection_recorded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemInput:
    name: str
    value: object
    limit: object | None = None
    limit_kind: str = "max"
    unit: str = ""


def check_can_inspect(*, actor: User, batch: HarvestBatch) -> None:
    policy.require(actor, "inspection.record", batch, error=NotAnInspector, outside=InspectorOutsideRegion)


def check_certificate(certificate: File) -> str:
    """The certificate's kind ("pdf", "png", "jpg") by content; CertificateTooLarge / CertificateTypeNotAllowed."""
    limit = settings.CERTIFICATE_MAX_BYTES
    size = certificate.size
    if size is None or size > limit:
        raise CertificateTooLarge(details={"field": "certificate", "max_bytes": limit})
    certificate.seek(0)
    kind = certificate_kind(certificate.read(16))
    certificate.seek(0)
    if kind is None or (kind != "pdf" and not image_is_valid(certificate, kind)):
        log.info("refused an inspection certificate of %d bytes: not a PDF, JPEG or PNG", size)
        raise CertificateTypeNotAllowed(details={"field": "certificate",
                                                 "allowed": [m for _k, (_b, m) in CERTIFICATE_KINDS.items()]})
    return kind


def _item_passes(value: Decimal, limit: Decimal | None, kind: str) -> bool:
    if limit is None:
        return True
    return value <= limit if kind == "max" else value >= limit


@transaction.atomic
def record_inspection(*, actor: User, batch: HarvestBatch, sample_code: str, lab: str, sampled_on: dt.date,
                      result: str, items: list[ItemInput] = (), notes: str = "",
                      certificate: File | None = None) -> Inspection:
    """Record a sample inspection; products selling from the batch are listed or delisted accordingly
    (by catalog, on the `inspection_recorded` signal sent in this transaction)."""
    batch = HarvestBatch.objects.select_for_update().select_related("plot__producer__village").get(pk=batch.pk)
    check_can_inspect(actor=actor, batch=batch)
    certificate_ext = check_certificate(certificate) if certificate is not None else None
    sample_code = clean_text(sample_code, field="sample_code", max_length=40)
    if Inspection.objects.filter(sample_code=sample_code).exists():
        raise DuplicateSampleCode()
    if result not in Inspection.Result.values:
        raise ValidationFailed("result: pass or fail.", details={"field": "result"})
    if not isinstance(sampled_on, dt.date) or sampled_on > timezone.localdate():
        raise ValidationFailed("sampled_on: a date not in the future.", details={"field": "sampled_on"})
    if sampled_on < batch.harvested_on:
        raise ValidationFailed("sampled_on: before the harvest.", details={"field": "sampled_on"})
    parsed = []
    for i, item in enumerate(items):
        if item.limit_kind not in ("max", "min"):
            raise ValidationFailed(f"items[{i}].limit_kind: max or min.", details={"field": "items"})
        value = clean_decimal(item.value, field=f"items[{i}].value", allow_zero=True, places=4)
        limit = None if item.limit in (None, "") else clean_decimal(
            item.limit, field=f"items[{i}].limit", allow_zero=True, places=4)
        parsed.append((clean_text(item.name, field=f"items[{i}].name", max_length=100), value, limit,
                       item.limit_kind, clean_text(item.unit, field=f"items[{i}].unit", max_length=20,
                                                   required=False)))
    if result == Inspection.Result.PASS and any(not _item_passes(v, lim, k) for _, v, lim, k, _u in parsed):
        raise ResultContradictsItems()
    inspection = Inspection.objects.create(
        batch=batch,
        sample_code=sample_code,
        lab=clean_text(lab, field="lab", max_length=100),
        sampled_on=sampled_on,
        result=result,
        notes=clean_text(notes, field="notes", max_length=2000, required=False, multiline=True),
        inspector=actor,
    )
    if certificate is not None:
        # Named by its content, never by the uploader: a random name with the kind's extension.
        inspection.certificate.save(f"{uuid.uuid4().hex}.{certificate_ext}", certificate, save=True)
    InspectionItem.objects.bulk_create([
        InspectionItem(inspection=inspection, name=n, value=v, limit=lim, limit_kind=k, unit=u,
                       passed=_item_passes(v, lim, k))
        for n, v, lim, k, u in parsed
    ])
    _create_event(
        batch=batch,
        event_type=TraceEvent.EventType.OBJECT,
        biz_step=TraceEvent.BizStep.INSPECTING,
        action="OBSERVE",
        # The sampling time of day is not recorded: noon of the day, but never later than now.
        event_time=min(timezone.make_aware(dt.datetime.combine(sampled_on, dt.time(12, 0))), timezone.now()),
        region=batch.plot.producer.village.ancestor_at("county") or batch.plot.producer.village,
        inspection=inspection,
        payload={"disposition": "conformant" if result == "pass" else "non_conformant",
                 "sample_code": sample_code, "lab": inspection.lab},
        recorded_by=actor,
    )
    # Before the signal: the listing changes catalog makes in answer are audited after the result they follow.
    record_action(actor=actor, action="quality.inspection_recorded", subject=inspection,
                  region=batch.plot.producer.village, before=None,
                  after={"batch": batch.trace_code, "sample_code": sample_code, "lab": inspection.lab,
                         "sampled_on": sampled_on, "result": result,
                         "items": [{"name": n, "value": v, "limit": lim, "limit_kind": k, "unit": u}
                                   for n, v, lim, k, u in parsed]})
    inspection_recorded.send(sender=Inspection, batch=batch, inspection=inspection, passed=inspection.passed,
                             actor=actor)
    return inspection


def on_batch_harvested(sender: object, *, batch: HarvestBatch, **kwargs: object) -> None:
    """Receiver of producers' `batch_harvested` (connected in QualityConfig.ready)."""
    record_harvest_event(batch=batch)


def record_harvest_event(*, batch: HarvestBatch) -> TraceEvent:
    """EPCIS ObjectEvent ADD (commissioning): the batch comes into being at its village."""
    return _create_event(
        batch=batch,
        event_type=TraceEvent.EventType.OBJECT,
        biz_step=TraceEvent.BizStep.COMMISSIONING,
        action="ADD",
        event_time=timezone.make_aware(dt.datetime.combine(batch.harvested_on, dt.time(8, 0))),
        region=batch.plot.producer.village,
        payload={"quantity": str(batch.quantity), "uom": batch.unit, "grade": batch.grade},
    )


# --- The rest of the chain: processing, packing, shipping, receiving --------------------------------
#
# Each function records one GS1 EPCIS 2.0 event (see quality/epcis.py for the export). Events carry
# places only at village/county/city level: never a household's name, phone or address.

MAX_PACKS_PER_EVENT = 5000


def _create_event(*, batch: HarvestBatch, linked: list[HarvestBatch] = (), recorded_by: User | None = None,
                  **fields: object) -> TraceEvent:
    event = TraceEvent.objects.create(batch=batch, recorded_by=recorded_by, **fields)
    event.linked_batches.add(batch, *linked)
    return event


def _check_can_record_chain(actor: User, batch: HarvestBatch) -> None:
    """Processing and packing are recorded by the producer's manager or the county operator."""
    policy.require(actor, "trace.record_chain", batch, error=CannotRecordChain)


def _aware(value: object, *, field: str, not_before: dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationFailed(f"{field}: must be a date and time.", details={"field": field})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationFailed(f"{field}: cannot be in the future.", details={"field": field})
    if timezone.localtime(value).date() < not_before:
        raise ValidationFailed(f"{field}: before the harvest.", details={"field": field})
    return value


@dataclass(frozen=True)
class InputUse:
    """One input of a transformation: how much of which batch went in."""

    batch: HarvestBatch
    quantity: object
    unit: str | None = None  # defaults to the batch's unit


@transaction.atomic
def record_transformation(*, actor: User, inputs: list[InputUse], output_name: str, output_lot: str,
                          output_quantity: object, output_unit: str, processed_at: dt.datetime,
                          region: Region | None = None) -> TraceEvent:
    """EPCIS TransformationEvent: input batches are processed into a new lot.

    E.g. 500 jin of pre-Qingming fresh leaves → 100 kg of pressed dark tea, lot "QL2401". The output
    lot is what goes into the packs; it is sold under the input batches' trace codes, so the event
    belongs to the chain of every input. An input can never be used beyond its harvested quantity.
    """
    if not inputs:
        raise ValidationFailed("inputs: at least one input batch.", details={"field": "inputs"})
    if len({i.batch.pk for i in inputs}) != len(inputs):
        raise ValidationFailed("inputs: each batch at most once.", details={"field": "inputs"})
    batches = {b.pk: b for b in HarvestBatch.objects.select_for_update().select_related(
        "plot__producer__village").filter(pk__in=[i.batch.pk for i in inputs])}
    parsed = []
    for n, use in enumerate(inputs):
        batch = batches.get(use.batch.pk)
        if batch is None:
            raise ValidationFailed(f"inputs[{n}]: unknown batch.", details={"field": "inputs"})
        _check_can_record_chain(actor, batch)
        unit = use.unit or batch.unit
        if unit not in HarvestBatch.Unit.values:
            raise ValidationFailed(f"inputs[{n}].unit: unknown unit.", details={"field": "inputs"})
        quantity = clean_decimal(use.quantity, field=f"inputs[{n}].quantity", max_value=Decimal("100000000"))
        in_batch_unit = in_unit(quantity, unit, batch.unit)
        if in_batch_unit is None:
            raise ValidationFailed(f"inputs[{n}].unit: {unit} does not convert to the batch's {batch.unit}.",
                                   details={"field": "inputs"})
        available = batch.quantity - consumed_quantity(batch)
        if in_batch_unit > available:
            raise InputExceedsBatch(
                f"inputs[{n}]: only {available} {batch.unit} of {batch.trace_code} is left to process.",
                details={"trace_code": batch.trace_code, "available": str(available), "unit": batch.unit})
        parsed.append((batch, quantity, unit))
    first = parsed[0][0]
    processed_at = _aware(processed_at, field="processed_at",
                          not_before=max(b.harvested_on for b, _q, _u in parsed))
    output_name = clean_text(output_name, field="output_name", max_length=100)
    output_lot = clean_text(output_lot, field="output_lot", max_length=20)
    if not is_valid_lot(output_lot):
        raise ValidationFailed("output_lot: 1-20 letters, digits, '.', '-' or '_'.", details={"field": "output_lot"})
    if TraceEvent.objects.filter(linked_batches__in=[b for b, _q, _u in parsed],
                                 event_type=TraceEvent.EventType.TRANSFORMATION,
                                 payload__output__lot=output_lot).exists():
        raise ValidationFailed("output_lot: this lot is already recorded for these batches.",
                               details={"field": "output_lot"})
    if output_unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("output_unit: unknown unit.", details={"field": "output_unit"})
    output_qty = clean_decimal(output_quantity, field="output_quantity", max_value=Decimal("100000000"))
    region = region or first.plot.producer.village
    if not (is_platform_admin(actor) or user_covers_region(actor, region)
            or any(region.pk == b.plot.producer.village_id for b, _q, _u in parsed)):
        raise ValidationFailed("region: outside your region.", details={"field": "region"})
    return _create_event(
        batch=first,
        linked=[b for b, _q, _u in parsed[1:]],
        event_type=TraceEvent.EventType.TRANSFORMATION,
        biz_step=TraceEvent.BizStep.COMMISSIONING_PROCESS,
        action="",
        event_time=processed_at,
        region=region,
        payload={
            "inputs": [{"trace_code": b.trace_code, "quantity": str(q), "unit": u} for b, q, u in parsed],
            "output": {"name": output_name, "lot": output_lot, "quantity": str(output_qty), "unit": output_unit},
            "disposition": "active",
        },
        recorded_by=actor,
    )


@transaction.atomic
def record_packing(*, actor: User, batch: HarvestBatch, packed_at: dt.datetime, cases: int,
                   packs_per_case: int, pack_unit: str = "box", lot: str | None = None,
                   region: Region | None = None) -> TraceEvent:
    """EPCIS AggregationEvent(s): packs of the batch (or of a lot processed from it) go into cases.

    One recorded packing run of `cases` × `packs_per_case`; the EPCIS export gives one
    AggregationEvent per case (parentID = the case, childEPCs = its packs).
    """
    batch = HarvestBatch.objects.select_for_update().select_related("plot__producer__village").get(pk=batch.pk)
    _check_can_record_chain(actor, batch)
    for name, value, top in (("cases", cases, 500), ("packs_per_case", packs_per_case, 200)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            raise ValidationFailed(f"{name}: a whole number from 1 to {top}.", details={"field": name})
    if cases * packs_per_case > MAX_PACKS_PER_EVENT:
        raise ValidationFailed(f"At most {MAX_PACKS_PER_EVENT} packs per packing run.", details={"field": "cases"})
    if pack_unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("pack_unit: unknown unit.", details={"field": "pack_unit"})
    packed_at = _aware(packed_at, field="packed_at", not_before=batch.harvested_on)
    if lot is not None:
        if lot not in transformation_outputs(batch):
            raise ValidationFailed("lot: not a lot processed from this batch.", details={"field": "lot"})
        processed = transformation_outputs(batch)[lot]
        if packed_at < processed.event_time:
            raise ValidationFailed("packed_at: before the lot was processed.", details={"field": "packed_at"})
    runs = TraceEvent.objects.filter(batch=batch, event_type=TraceEvent.EventType.AGGREGATION)
    first_case = 1 + sum(int(e.payload.get("cases", 0)) for e in runs)
    return _create_event(
        batch=batch,
        event_type=TraceEvent.EventType.AGGREGATION,
        biz_step=TraceEvent.BizStep.PACKING,
        action="ADD",
        event_time=packed_at,
        region=region or batch.plot.producer.village,
        payload={"cases": cases, "packs_per_case": packs_per_case, "pack_unit": pack_unit, "lot": lot,
                 "first_case": first_case, "disposition": "container_closed"},
        recorded_by=actor,
    )


def _coarse_region(region: Region | None) -> Region | None:
    """Destinations are kept at city level at most: a buyer's county or street is not public."""
    if region is None:
        return None
    return region.ancestor_at("city") or region


@transaction.atomic
def record_shipment(*, batch: HarvestBatch, shipped_at: dt.datetime, carrier: str, region: Region | None,
                    destination: Region | None = None, quantity: object | None = None, unit: str | None = None,
                    reference: str = "") -> TraceEvent:
    """EPCIS ObjectEvent OBSERVE (shipping, in_transit): goods from `batch` are handed to a carrier.

    Called by fulfilment when a parcel leaves.
      batch       the harvest batch the goods come from (its trace code is on the pack)
      shipped_at  datetime of the hand-over (naive = project time zone); not before the harvest
      carrier     carrier name, e.g. "邮政EMS" (no tracking number: it would lead to the buyer)
      region      where the parcel left: the producer's village or shipping point (None: the batch's county)
    Optional:
      destination the buyer's region; only its city is recorded, never anything finer
      quantity, unit  how much left (unit defaults to the batch's); without it the EPCIS export
                  claims no amount
      reference   idempotency key, e.g. the shipment id: a repeated call with the same reference for
                  the same batch returns the first event instead of recording another
    """
    return _record_movement(batch=batch, at=shipped_at, region=region, destination=destination, quantity=quantity,
                            unit=unit, reference=reference, receiving=False,
                            carrier=clean_text(carrier, field="carrier", max_length=50))


@transaction.atomic
def record_receipt(*, batch: HarvestBatch, received_at: dt.datetime, region: Region | None,
                   quantity: object | None = None, unit: str | None = None, reference: str = "") -> TraceEvent:
    """EPCIS ObjectEvent OBSERVE (receiving): the buyer signs for goods from `batch`.

    `region` is where they arrived and is kept at city level; the other arguments are as for
    record_shipment.
    """
    return _record_movement(batch=batch, at=received_at, region=None, destination=region, quantity=quantity,
                            unit=unit, reference=reference, receiving=True, carrier="")


def _record_movement(*, batch: HarvestBatch, at: dt.datetime, region: Region | None, destination: Region | None,
                     quantity: object | None, unit: str | None, reference: str, receiving: bool,
                     carrier: str) -> TraceEvent:
    batch = HarvestBatch.objects.select_related("plot__producer__village").get(pk=batch.pk)
    biz_step = TraceEvent.BizStep.RECEIVING if receiving else TraceEvent.BizStep.SHIPPING
    reference = clean_text(reference, field="reference", max_length=64, required=False)
    if reference:
        existing = TraceEvent.objects.filter(batch=batch, biz_step=biz_step, reference=reference).first()
        if existing is not None:
            return existing
    at = _aware(at, field="received_at" if receiving else "shipped_at", not_before=batch.harvested_on)
    unit = unit or batch.unit
    if unit not in HarvestBatch.Unit.values:
        raise ValidationFailed("unit: unknown unit.", details={"field": "unit"})
    qty = None if quantity is None else clean_decimal(quantity, field="quantity", max_value=Decimal("100000000"))
    destination = _coarse_region(destination)
    origin = region or batch.plot.producer.village.ancestor_at("county") or batch.plot.producer.village
    payload: dict[str, object] = {"disposition": "in_progress" if receiving else "in_transit"}
    if qty is not None:
        payload.update(quantity=str(qty), unit=unit)
    if destination is not None:
        payload["destination"] = destination.code
    if carrier:
        payload["carrier"] = carrier
    return _create_event(
        batch=batch,
        event_type=TraceEvent.EventType.OBJECT,
        biz_step=biz_step,
        action="OBSERVE",
        event_time=at,
        # Where it was observed: the shipping point for shipping, the (city-level) destination on receipt.
        region=destination if receiving else origin,
        payload=payload,
        reference=reference,
    )
