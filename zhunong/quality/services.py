"""Writes for inspections and trace events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, user_covers_region
from zhunong.core.errors import ValidationFailed
from zhunong.core.text import clean_decimal, clean_text
from zhunong.producers.models import HarvestBatch

from .errors import DuplicateSampleCode, InspectorOutsideRegion, NotAnInspector, ResultContradictsItems
from .models import Inspection, InspectionItem, TraceEvent


@dataclass(frozen=True)
class ItemInput:
    name: str
    value: object
    limit: object | None = None
    limit_kind: str = "max"
    unit: str = ""


def check_can_inspect(*, actor: User, batch: HarvestBatch) -> None:
    if not (is_platform_admin(actor) or actor.has_role(roles.REGULATOR)):
        raise NotAnInspector()
    if not user_covers_region(actor, batch.plot.producer.village):
        raise InspectorOutsideRegion()


def _item_passes(value: Decimal, limit: Decimal | None, kind: str) -> bool:
    if limit is None:
        return True
    return value <= limit if kind == "max" else value >= limit


@transaction.atomic
def record_inspection(*, actor: User, batch: HarvestBatch, sample_code: str, lab: str, sampled_on: dt.date,
                      result: str, items: list[ItemInput] = (), notes: str = "",
                      certificate: File | None = None) -> Inspection:
    """Record a sample inspection; products selling from the batch are listed or delisted accordingly."""
    from zhunong.catalog.services import on_inspection_recorded

    batch = HarvestBatch.objects.select_for_update().select_related("plot__producer__village").get(pk=batch.pk)
    check_can_inspect(actor=actor, batch=batch)
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
        inspection.certificate.save(certificate.name or f"{sample_code}.pdf", certificate, save=True)
    InspectionItem.objects.bulk_create([
        InspectionItem(inspection=inspection, name=n, value=v, limit=lim, limit_kind=k, unit=u,
                       passed=_item_passes(v, lim, k))
        for n, v, lim, k, u in parsed
    ])
    TraceEvent.objects.create(
        batch=batch,
        event_type=TraceEvent.EventType.OBJECT,
        biz_step=TraceEvent.BizStep.INSPECTING,
        action="OBSERVE",
        event_time=timezone.make_aware(dt.datetime.combine(sampled_on, dt.time(12, 0))),
        region=batch.plot.producer.village.ancestor_at("county") or batch.plot.producer.village,
        inspection=inspection,
        payload={"disposition": "conformant" if result == "pass" else "non_conformant",
                 "sample_code": sample_code, "lab": inspection.lab},
    )
    on_inspection_recorded(batch=batch, passed=inspection.passed, actor=actor)
    return inspection


def record_harvest_event(*, batch: HarvestBatch) -> TraceEvent:
    """EPCIS ObjectEvent ADD (commissioning): the batch comes into being at its village."""
    return TraceEvent.objects.create(
        batch=batch,
        event_type=TraceEvent.EventType.OBJECT,
        biz_step=TraceEvent.BizStep.COMMISSIONING,
        action="ADD",
        event_time=timezone.make_aware(dt.datetime.combine(batch.harvested_on, dt.time(8, 0))),
        region=batch.plot.producer.village,
        payload={"quantity": str(batch.quantity), "uom": batch.unit, "grade": batch.grade},
    )
