"""Reads for inspections and the traceability chain: the public trace page, QR targets, identifiers.

Public reads show places only down to the village and never a household's name, phone, address or
plot name; the summary built here is the one thing the page and the API render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.selectors import scope
from zhunong.producers.backoffice import visible_batches
from zhunong.producers.models import HarvestBatch, Producer, Region
from zhunong.producers.trace_codes import is_valid_trace_code

from . import products
from .errors import TraceCodeNotFound
from .models import Inspection, TraceEvent
from .rules import CERTIFICATE_KINDS, certificate_kind, in_unit, is_valid_lot

UNIT_LABELS = dict(HarvestBatch.Unit.choices)


def latest_inspection(batch: HarvestBatch) -> Inspection | None:
    return batch.inspections.order_by("-sampled_on", "-id").first()


def batch_by_trace_code(code: str) -> HarvestBatch:
    code = (code or "").strip().upper() if isinstance(code, str) else ""
    if not is_valid_trace_code(code):
        raise TraceCodeNotFound()
    try:
        return HarvestBatch.objects.select_related(
            "plot__producer__village__parent__parent__parent__parent").get(trace_code=code)
    except HarvestBatch.DoesNotExist:
        raise TraceCodeNotFound()


# --- Identifiers (GS1 Digital Link paths, platform URNs, QR targets) --------------------------------

def base_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")


def gtin14(gtin: str) -> str:
    """GS1 Digital Link writes every GTIN as 14 digits (GTIN-8/12/13 left-padded with zeros)."""
    return gtin.zfill(14)


def _gtin_candidates(value: str) -> list[str]:
    """The stored forms (8, 12, 13 or 14 digits) a Digital Link GTIN may correspond to."""
    if not value.isdigit() or not 8 <= len(value) <= 14:
        return []
    full = gtin14(value)
    return [full[14 - n:] for n in (8, 12, 13, 14) if full[:14 - n] == "0" * (14 - n)]


def batch_gtin(batch: HarvestBatch) -> str | None:
    """The GTIN of the (first) product sold from this batch that has one."""
    return products.gtin_of_batch(batch)


def public_lot(batch: HarvestBatch) -> str:
    """The lot printed with the GTIN: the batch's lot number if it fits GS1 AI (10), else its trace code."""
    return batch.lot_number if is_valid_lot(batch.lot_number) else batch.trace_code


def trace_path(batch: HarvestBatch) -> str:
    return f"/t/{batch.trace_code}/"


def digital_link_path(batch: HarvestBatch, gtin: str | None = None) -> str | None:
    gtin = gtin or batch_gtin(batch)
    if not gtin:
        return None
    return f"/01/{gtin14(gtin)}/10/{quote(public_lot(batch), safe='')}"


def qr_target(batch: HarvestBatch) -> str:
    """What the pack's QR encodes: the Digital Link when a product has a GTIN, else the trace page."""
    return base_url() + (digital_link_path(batch) or trace_path(batch))


def batch_by_digital_link(gtin: str, lot: str) -> HarvestBatch:
    """Resolve /01/{gtin}/10/{lot}: a batch (by lot number or trace code) or a lot processed from one."""
    candidates = _gtin_candidates(gtin)
    if not candidates or not lot or len(lot) > 40:
        raise TraceCodeNotFound()
    batches = products.batches_of_gtin(candidates)
    if batches is None:
        raise TraceCodeNotFound()
    batch = (batches.filter(lot_number=lot).order_by("id").first()
             or batches.filter(trace_code=lot.upper()).first())
    if batch is None:
        event = (TraceEvent.objects.filter(event_type=TraceEvent.EventType.TRANSFORMATION,
                                           linked_batches__in=batches, payload__output__lot=lot)
                 .select_related("batch").order_by("id").first())
        batch = event.batch if event else None
    if batch is None:
        raise TraceCodeNotFound()
    return batch


def region_uri(region: Region) -> str:
    """readPoint / bizLocation: the public region page, a URI under PUBLIC_BASE_URL."""
    return f"{base_url()}/regions/{quote(region.code, safe='')}/"


# --- The public trace summary ----------------------------------------------------------------------

def trace_events(batch: HarvestBatch) -> QuerySet[TraceEvent]:
    return (TraceEvent.objects.filter(Q(linked_batches=batch) | Q(batch=batch)).distinct()
            .select_related("region", "inspection", "batch").order_by("event_time", "id"))


def listed_products_of(batch: HarvestBatch) -> Sequence[Any]:
    return products.listed_products_of_batch(batch)


def _amount(quantity: str | Decimal, unit: str) -> str:
    value = Decimal(str(quantity)).normalize()
    return f"{value:f} {UNIT_LABELS.get(unit, unit)}"


def describe_event(event: TraceEvent, batch: HarvestBatch, regions: dict[str, Region]) -> str:
    """One line of the chain in the active language, with nothing personal in it."""
    p = event.payload or {}
    step = event.biz_step
    if event.event_type == TraceEvent.EventType.TRANSFORMATION:
        out = p.get("output", {})
        return _("加工：原料 %(inputs)s → %(name)s %(amount)s（批号 %(lot)s）") % {
            "inputs": "、".join(_amount(i["quantity"], i["unit"]) for i in p.get("inputs", [])),
            "name": out.get("name", ""), "amount": _amount(out.get("quantity", "0"), out.get("unit", "")),
            "lot": out.get("lot", "")}
    if event.event_type == TraceEvent.EventType.AGGREGATION:
        what = _("批号 %(lot)s 的成品") % {"lot": p["lot"]} if p.get("lot") else _("本批次产品")
        return _("包装：%(what)s装箱 %(cases)s 箱，每箱 %(per_case)s %(unit)s") % {
            "what": what, "cases": p.get("cases"), "per_case": p.get("packs_per_case"),
            "unit": UNIT_LABELS.get(p.get("pack_unit", ""), "")}
    if step == TraceEvent.BizStep.COMMISSIONING:
        text = _("采收：%(amount)s") % {"amount": _amount(p.get("quantity", batch.quantity), p.get("uom", batch.unit))}
        return f"{text}（{p['grade']}）" if p.get("grade") else text
    if step == TraceEvent.BizStep.INSPECTING:
        verdict = _("合格") if p.get("disposition") == "conformant" else _("不合格")
        return _("抽检：%(lab)s 抽样 %(sample)s，结论%(verdict)s") % {
            "lab": p.get("lab", ""), "sample": p.get("sample_code", ""), "verdict": verdict}
    parts = []
    if p.get("quantity"):
        parts.append(_amount(p["quantity"], p["unit"]))
    if step == TraceEvent.BizStep.SHIPPING and p.get("carrier"):
        parts.append(_("%(carrier)s承运") % {"carrier": p["carrier"]})
    destination = regions.get(p.get("destination", ""))
    if destination is not None:
        parts.append(_("发往%(place)s") % {"place": destination.full_name})
    label = _("发货") if step == TraceEvent.BizStep.SHIPPING else (
        _("签收") if step == TraceEvent.BizStep.RECEIVING else str(event.get_biz_step_display()))
    return "，".join([label, *parts]) if parts else label


@dataclass(frozen=True)
class ChainLine:
    event: TraceEvent
    text: str
    place: str


def chain(batch: HarvestBatch) -> list[ChainLine]:
    events = list(trace_events(batch))
    codes = {e.payload.get("destination") for e in events if e.payload.get("destination")}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [ChainLine(event=e, text=describe_event(e, batch, regions), place=e.region.full_name if e.region else "")
            for e in events]


def trace_summary(batch: HarvestBatch) -> dict:
    """Everything the public trace page and `GET /api/v1/trace/{code}` show, and nothing more."""
    producer: Producer = batch.plot.producer
    village = producer.village
    county = village.ancestor_at("county")
    township = village.ancestor_at("township")
    inspection = latest_inspection(batch)
    base = base_url()
    certificate_url = None
    if inspection and inspection.certificate:
        certificate_url = certificate_url_of(inspection)
    listed = list(listed_products_of(batch))
    return {
        "code": batch.trace_code,
        "page_url": base + trace_path(batch),
        "qr_url": base + trace_path(batch) + "qr.svg",
        "qr_target": qr_target(batch),
        "epcis_url": f"{base}/api/v1/trace/{batch.trace_code}/epcis",
        "province": (village.ancestor_at("province") or village).name,
        "county": county.name if county else "",
        "township": township.name if township else "",
        "village": village.name,
        "place": village.full_name,
        # Co-operatives and enterprises are public bodies with their own pages; households stay anonymous.
        "producer_kind": producer.kind,
        "producer_kind_label": producer.get_kind_display(),
        "producer_name": None if producer.kind == Producer.Kind.HOUSEHOLD else producer.name,
        "producer_id": None if producer.kind == Producer.Kind.HOUSEHOLD else producer.pk,
        "registered_poor": producer.registered_poor,
        "crop": batch.plot.crop,
        "variety": batch.plot.variety,
        "plot_area_mu": f"{batch.plot.area_mu.normalize():f}",
        "harvested_on": batch.harvested_on,
        "grade": batch.grade,
        "quantity": f"{batch.quantity.normalize():f}",
        "unit": batch.unit,
        "unit_label": batch.get_unit_display(),
        "shelf_life_days": batch.shelf_life_days,
        "lot": public_lot(batch),
        "inspection": None if inspection is None else {
            "result": inspection.result,
            "passed": inspection.passed,
            "sampled_on": inspection.sampled_on,
            "sample_code": inspection.sample_code,
            "lab": inspection.lab,
            "certificate_url": certificate_url,
            "items": [{"name": i.name, "value": f"{i.value.normalize():f}",
                       "limit": None if i.limit is None else f"{i.limit.normalize():f}",
                       "limit_kind": i.limit_kind, "unit": i.unit, "passed": i.passed}
                      for i in inspection.items.all()],
        },
        "events": [{"type": line.event.event_type, "biz_step": line.event.biz_step, "text": line.text,
                    "time": timezone.localtime(line.event.event_time), "place": line.place}
                   for line in chain(batch)],
        "products": [{"id": p.pk, "name": p.name, "url": f"{base}/p/{p.pk}/"} for p in listed],
    }


# --- Back-office reads -------------------------------------------------------------------------

def inspections_visible_to(user: User) -> QuerySet[Inspection]:
    """Inspections a back-office user may read: admins all, regulators and operators their region's,
    producer managers their own producers'. Everyone else: none."""
    qs = Inspection.objects.select_related("batch__plot__producer__village", "inspector").prefetch_related("items")
    return scope(qs, user, region_field="batch__plot__producer__village", producer_field="batch__plot__producer")


def can_read_inspections(user: User) -> bool:
    return policy.can(user, "inspection.view")


def batches_visible_to(user: User) -> QuerySet[HarvestBatch]:
    """The harvest batches a back-office user may see, each with its inspections (id, date, result)."""
    return visible_batches(user).prefetch_related(Prefetch("inspections", queryset=Inspection.objects.only(
        "id", "batch_id", "sampled_on", "result")))


# --- The chain's reads that its writes check against ------------------------------------------------


def consumed_quantity(batch: HarvestBatch) -> Decimal:
    """How much of the batch (in its own unit) earlier transformations have used."""
    used = Decimal("0")
    events = TraceEvent.objects.filter(linked_batches=batch, event_type=TraceEvent.EventType.TRANSFORMATION)
    for event in events:
        for entry in event.payload.get("inputs", []):
            if entry.get("trace_code") == batch.trace_code:
                used += in_unit(Decimal(entry["quantity"]), entry["unit"], batch.unit) or Decimal("0")
    return used


def transformation_outputs(batch: HarvestBatch) -> dict[str, TraceEvent]:
    """Output lot → transformation event, for the lots made from this batch."""
    events = TraceEvent.objects.filter(linked_batches=batch, event_type=TraceEvent.EventType.TRANSFORMATION)
    return {e.payload["output"]["lot"]: e for e in events.order_by("event_time", "id")}


def certificate_url_of(inspection: Inspection) -> str:
    """The public download address of an inspection's certificate (views.certificate)."""
    return base_url() + reverse("quality:certificate", args=[inspection.pk])


def certificate_of(inspection_id: int) -> tuple[Any, str, str] | None:
    """(open file, download name, content type) of an inspection's certificate, or None.

    The content type comes from the file's first bytes; anything that is not a PDF, JPEG or PNG (an upload
    from before uploads were checked) goes out as application/octet-stream.
    """
    inspection = Inspection.objects.filter(pk=inspection_id).exclude(certificate="").first()
    if inspection is None:
        return None
    try:
        handle = inspection.certificate.open("rb")
    except OSError:
        return None
    kind = certificate_kind(handle.read(16))
    handle.seek(0)
    content_type = CERTIFICATE_KINDS[kind][1] if kind else "application/octet-stream"
    safe_code = "".join(c if c.isalnum() or c in "-_" else "_" for c in inspection.sample_code)[:40] or "certificate"
    return handle, f"{safe_code}.{kind or 'bin'}", content_type
