"""Export a batch's chain as a GS1 EPCIS 2.0 JSON-LD document.

Shape per the EPCIS 2.0 standard (GS1, 2022) and its JSON-LD context
https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld; bizStep and disposition values are
bare CBV 2.0 terms ("commissioning", "in_transit" …), which that context expands.

Identifiers:
- what: class-level (lot) identifiers. When a product sold from the batch has a GTIN, the batch is
  `{PUBLIC_BASE_URL}/01/{gtin14}/10/{lot}` (a GS1 Digital Link URI, resolvable on this site); without
  a GTIN, or for raw material that was processed into something else, it is `urn:zhunong:lot:{trace}`.
  A processed lot is `…/01/{gtin14}/10/{output lot}` or `urn:zhunong:lot:{trace}.{output lot}`.
  Packs are instance-level: `…/01/{gtin14}/21/{serial}` or `urn:zhunong:pack:{trace}.{case}.{n}`;
  cases (no SSCC is issued) are `urn:zhunong:case:{trace}.{case}`.
- where: readPoint / bizLocation are region pages under PUBLIC_BASE_URL (village, county or city:
  never a household's address).
- eventID: `urn:uuid:{TraceEvent.event_uuid}`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from zhunong.producers.models import HarvestBatch, Region

from .models import TraceEvent
from .selectors import base_url, batch_gtin, certificate_url_of, gtin14, public_lot, region_uri, trace_events

CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

# Our internal step names → CBV 2.0 bizStep. CBV has no "transforming": GS1's own
# TransformationEvent examples use "commissioning" (new objects come into being).
CBV_BIZ_STEP = {TraceEvent.BizStep.COMMISSIONING_PROCESS: "commissioning"}

# UN/ECE Recommendation 20 codes; 斤 is half a kilogram. Boxes, bags, heads and pieces are counts
# (an EPCIS quantity without uom counts instances).
_KGM = {"kg": Decimal("1"), "jin": Decimal("0.5")}


def _quantity(epc_class: str, quantity: str | Decimal, unit: str) -> dict[str, Any]:
    amount = Decimal(str(quantity))
    if unit in _KGM:
        return {"epcClass": epc_class, "quantity": float(amount * _KGM[unit]), "uom": "KGM"}
    return {"epcClass": epc_class, "quantity": float(amount)}


def _offset(moment) -> str:  # noqa: ANN001
    raw = timezone.localtime(moment).strftime("%z")  # "+0800"
    return f"{raw[:3]}:{raw[3:]}"


def _time(moment) -> str:  # noqa: ANN001
    return timezone.localtime(moment).isoformat(timespec="milliseconds")


class _Ids:
    """Identifier scheme for one document (see module docstring); GTIN look-ups cached per batch."""

    def __init__(self) -> None:
        self.base = base_url()
        self._gtins: dict[int, str | None] = {}

    def _gtin(self, batch: HarvestBatch) -> str | None:
        if batch.pk not in self._gtins:
            self._gtins[batch.pk] = batch_gtin(batch)
        return self._gtins[batch.pk]

    def batch_class(self, batch: HarvestBatch, *, processed: bool) -> str:
        gtin = self._gtin(batch)
        if gtin and not processed:
            return f"{self.base}/01/{gtin14(gtin)}/10/{public_lot(batch)}"
        return f"urn:zhunong:lot:{batch.trace_code}"

    def output_class(self, batch: HarvestBatch, lot: str) -> str:
        gtin = self._gtin(batch)
        if gtin:
            return f"{self.base}/01/{gtin14(gtin)}/10/{lot}"
        return f"urn:zhunong:lot:{batch.trace_code}.{lot}"

    def pack(self, batch: HarvestBatch, case: int, n: int) -> str:
        gtin = self._gtin(batch)
        if gtin:
            return f"{self.base}/01/{gtin14(gtin)}/21/{batch.trace_code}{case:03d}{n:03d}"
        return f"urn:zhunong:pack:{batch.trace_code}.{case}.{n}"

    @staticmethod
    def case(batch: HarvestBatch, case: int) -> str:
        return f"urn:zhunong:case:{batch.trace_code}.{case}"


def _processed(batch: HarvestBatch) -> bool:
    return TraceEvent.objects.filter(linked_batches=batch, event_type=TraceEvent.EventType.TRANSFORMATION).exists()


def _common(event: TraceEvent, type_: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_,
        "eventID": f"urn:uuid:{event.event_uuid}",
        "eventTime": _time(event.event_time),
        "eventTimeZoneOffset": _offset(event.event_time),
        "recordTime": _time(event.recorded_at),
    }
    return body


def _where(body: dict[str, Any], region: Region | None, *, business_location: bool = True) -> None:
    if region is None:
        return
    body["readPoint"] = {"id": region_uri(region)}
    if business_location:
        body["bizLocation"] = {"id": region_uri(region)}


def _object_event(event: TraceEvent, batch: HarvestBatch, ids: _Ids, processed: bool,
                  batches: dict[str, HarvestBatch], regions: dict[str, Region]) -> dict[str, Any]:
    p = event.payload or {}
    body = _common(event, "ObjectEvent")
    body["action"] = event.action or "OBSERVE"
    body["bizStep"] = CBV_BIZ_STEP.get(event.biz_step, event.biz_step)
    epc_class = ids.batch_class(event.batch, processed=processed)
    step = event.biz_step
    if step == TraceEvent.BizStep.COMMISSIONING:
        body["disposition"] = "active"
        body["quantityList"] = [_quantity(epc_class, p.get("quantity", event.batch.quantity),
                                          p.get("uom", event.batch.unit))]
        plot = event.batch.plot
        body["ilmd"] = {"zhunong:harvestDate": event.batch.harvested_on.isoformat(),
                        "zhunong:crop": plot.crop, "zhunong:variety": plot.variety,
                        "zhunong:plotAreaMu": float(plot.area_mu), "zhunong:grade": event.batch.grade}
        if event.batch.shelf_life_days:
            body["ilmd"]["zhunong:shelfLifeDays"] = event.batch.shelf_life_days
        _where(body, event.region)
    elif step == TraceEvent.BizStep.INSPECTING:
        body["disposition"] = p.get("disposition", "conformant")
        # The sample stands for the whole batch: the observation is about all of it.
        body["quantityList"] = [_quantity(epc_class, event.batch.quantity, event.batch.unit)]
        body["zhunong:sampleCode"] = p.get("sample_code", "")
        body["zhunong:lab"] = p.get("lab", "")
        if event.inspection_id and event.inspection.certificate:
            body["certificationInfo"] = certificate_url_of(event.inspection)
        _where(body, event.region)
    else:  # shipping / receiving
        body["disposition"] = p.get("disposition", "in_transit")
        if p.get("quantity"):
            body["quantityList"] = [_quantity(epc_class, p["quantity"], p.get("unit", event.batch.unit))]
        else:
            # Recorded without a quantity: EPCIS has no "unknown amount", so no object is claimed.
            body["epcList"] = []
        destination = regions.get(p.get("destination", ""))
        if step == TraceEvent.BizStep.SHIPPING:
            # In transit: observed at the origin, no business location.
            _where(body, event.region, business_location=False)
            if event.region is not None:
                body["sourceList"] = [{"type": "location", "source": region_uri(event.region)}]
            if p.get("carrier"):
                body["zhunong:carrier"] = p["carrier"]
        else:
            _where(body, event.region)
        if destination is not None:
            body["destinationList"] = [{"type": "location", "destination": region_uri(destination)}]
    return body


def _transformation_event(event: TraceEvent, ids: _Ids, batches: dict[str, HarvestBatch]) -> dict[str, Any]:
    p = event.payload
    body = _common(event, "TransformationEvent")
    body["bizStep"] = CBV_BIZ_STEP.get(event.biz_step, event.biz_step)
    body["disposition"] = p.get("disposition", "active")
    inputs = []
    for entry in p.get("inputs", []):
        source = batches.get(entry["trace_code"])
        if source is not None:
            inputs.append(_quantity(ids.batch_class(source, processed=True), entry["quantity"], entry["unit"]))
    body["inputQuantityList"] = inputs
    out = p.get("output", {})
    body["outputQuantityList"] = [_quantity(ids.output_class(event.batch, out["lot"]), out["quantity"], out["unit"])]
    body["transformationID"] = f"urn:zhunong:transformation:{event.event_uuid}"
    body["ilmd"] = {"zhunong:productName": out.get("name", ""), "zhunong:lot": out.get("lot", "")}
    _where(body, event.region)
    return body


def _aggregation_events(event: TraceEvent, ids: _Ids, processed: bool) -> list[dict[str, Any]]:
    """One AggregationEvent per case of a packing run; ids derived from the run's so they are stable."""
    p = event.payload
    batch = event.batch
    child_class = ids.output_class(batch, p["lot"]) if p.get("lot") else ids.batch_class(batch, processed=processed)
    first = int(p.get("first_case", 1))
    out = []
    for case in range(first, first + int(p["cases"])):
        body = _common(event, "AggregationEvent")
        body["eventID"] = f"urn:uuid:{uuid.uuid5(event.event_uuid, str(case))}"
        body["parentID"] = ids.case(batch, case)
        body["childEPCs"] = [ids.pack(batch, case, n) for n in range(1, int(p["packs_per_case"]) + 1)]
        body["zhunong:packsOf"] = child_class
        body["action"] = "ADD"
        body["bizStep"] = "packing"
        body["disposition"] = p.get("disposition", "container_closed")
        _where(body, event.region)
        out.append(body)
    return out


def epcis_document(batch: HarvestBatch) -> dict[str, Any]:
    """The batch's whole chain (harvest → inspection → processing → packing → shipping → receipt)."""
    events = list(trace_events(batch))
    codes = {e.batch.trace_code for e in events}
    for e in events:
        codes.update(i["trace_code"] for i in (e.payload or {}).get("inputs", []))
    batches = {b.trace_code: b for b in HarvestBatch.objects.filter(trace_code__in=codes).select_related("plot")}
    destinations = {e.payload.get("destination") for e in events if (e.payload or {}).get("destination")}
    regions = {r.code: r for r in Region.objects.filter(code__in=destinations)}
    processed = {code: _processed(b) for code, b in batches.items()}
    ids = _Ids()
    event_list: list[dict[str, Any]] = []
    for event in events:
        if event.event_type == TraceEvent.EventType.TRANSFORMATION:
            event_list.append(_transformation_event(event, ids, batches))
        elif event.event_type == TraceEvent.EventType.AGGREGATION:
            event_list.extend(_aggregation_events(event, ids, processed[event.batch.trace_code]))
        else:
            event_list.append(_object_event(event, batch, ids, processed[event.batch.trace_code], batches, regions))
    return {
        "@context": [CONTEXT_URL, {"zhunong": f"{base_url()}/ns/epcis#"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(timezone.now()),
        "epcisBody": {"eventList": event_list},
    }
