"""API for traceability (public) and inspections (regulators).

- `GET /trace/{code}`: the public trace summary (what the /t/<code>/ page shows).
- `GET /trace/{code}/epcis`: the batch's chain as a GS1 EPCIS 2.0 JSON-LD EPCISDocument.
- `POST /inspections`, `GET /inspections`: regulators record and read inspections in their region.
- `GET /batches`, `POST /batches`: harvest batches (back office) with their latest inspection's result.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from zhunong.accounts import policy
from zhunong.accounts.api import Id, back_office_user, decimal_field, text_field
from zhunong.accounts.auth import auth_required
from zhunong.accounts.selectors import user_covers_region
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.core.schemas import RequestSchema
from zhunong.producers import backoffice as producer_backoffice
from zhunong.producers import services as producer_services
from zhunong.producers.api import BatchUnit, Limit, Offset, Quantity, page
from zhunong.producers.errors import OutsideRegion, PlotNotFound, ProducerNotFound
from zhunong.producers.models import HarvestBatch

from . import products, selectors, services
from .epcis import epcis_document
from .errors import (
    DuplicateSampleCode,
    InspectorOutsideRegion,
    NotAnInspector,
    ResultContradictsItems,
    TraceCodeNotFound,
)
from .models import Inspection

router = Router(tags=["quality"])

TraceCode = Annotated[str, Field(max_length=64, description="The batch's trace code, e.g. 7K3M9QX2PA.")]
ProducerKind = Literal["household", "cooperative", "enterprise"]
LimitKind = Literal["max", "min"]
Result = Literal["pass", "fail"]
# Same bounds the service enforces (clean_decimal, 4 places), stated up front in the schema.
Measure = decimal_field(ge=0, le=99_999_999, places=4)


# --- schemas: trace ------------------------------------------------------------------------------

class ItemOut(Schema):
    name: str
    value: str
    limit: str | None
    limit_kind: LimitKind
    unit: str
    passed: bool


class InspectionSummaryOut(Schema):
    result: Result
    passed: bool
    sampled_on: dt.date
    sample_code: str
    lab: str
    certificate_url: str | None
    items: list[ItemOut]


class TraceEventOut(Schema):
    type: Literal["ObjectEvent", "TransformationEvent", "AggregationEvent"]
    biz_step: str
    text: str = Field(description="The event in Chinese, as the trace page shows it.")
    time: dt.datetime
    place: str


class ProductRefOut(Schema):
    id: int
    name: str
    url: str


class TraceOut(Schema):
    code: str
    page_url: str
    qr_url: str
    qr_target: str = Field(description="What the QR encodes: a GS1 Digital Link when a product has a GTIN.")
    epcis_url: str
    province: str
    county: str
    township: str
    village: str
    place: str
    producer_kind: ProducerKind
    producer_kind_label: str
    producer_name: str | None = Field(description="Co-operatives and enterprises only; households are not named.")
    producer_id: int | None
    registered_poor: bool
    crop: str
    variety: str
    plot_area_mu: str
    harvested_on: dt.date
    grade: str
    quantity: str
    unit: str
    unit_label: str
    shelf_life_days: int | None
    lot: str
    inspection: InspectionSummaryOut | None
    events: list[TraceEventOut]
    products: list[ProductRefOut] = Field(description="Listed products sold from this batch.")


@router.get("/trace/{code}", response=responses({200: TraceOut}, TraceCodeNotFound), auth=None,
            summary="Public trace summary of a batch")
def trace(request, code: TraceCode):  # noqa: ANN001, ANN201
    return selectors.trace_summary(selectors.batch_by_trace_code(code))


@router.get("/trace/{code}/epcis", response=responses({200: dict[str, Any]}, TraceCodeNotFound), auth=None,
            summary="The batch's chain as a GS1 EPCIS 2.0 JSON-LD document")
def trace_epcis(request, code: TraceCode):  # noqa: ANN001, ANN201
    """An `EPCISDocument` (schemaVersion 2.0) whose `epcisBody.eventList` holds the ObjectEvents
    (harvest, inspection, shipping, receiving), TransformationEvents (processing) and AggregationEvents
    (packing, one per case) of the batch."""
    return epcis_document(selectors.batch_by_trace_code(code))


# --- schemas: inspections ------------------------------------------------------------------------

class ItemIn(RequestSchema):
    name: str = Field(min_length=1, max_length=100)
    value: Measure
    limit: Measure | None = None
    limit_kind: LimitKind = "max"
    unit: str = Field(default="", max_length=20)


class InspectionIn(RequestSchema):
    trace_code: TraceCode
    sample_code: str = Field(min_length=1, max_length=40)
    lab: str = Field(min_length=1, max_length=100)
    sampled_on: dt.date
    result: Result
    notes: str = Field(default="", max_length=2000)
    items: list[ItemIn] = Field(default_factory=list, max_length=50)


class ProductStatusOut(Schema):
    id: int
    name: str
    status: Literal["draft", "awaiting_inspection", "listed", "delisted"]


class InspectionOut(Schema):
    id: int
    trace_code: str
    sample_code: str
    lab: str
    sampled_on: dt.date
    result: Result
    notes: str
    inspector: str
    recorded_at: dt.datetime
    items: list[ItemOut]
    products: list[ProductStatusOut] = Field(description="Products sold from the batch, with their listing status "
                                                          "after this inspection.")


class InspectionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[InspectionOut]


def _inspection_out(inspection: Inspection) -> dict:
    return {
        "id": inspection.pk,
        "trace_code": inspection.batch.trace_code,
        "sample_code": inspection.sample_code,
        "lab": inspection.lab,
        "sampled_on": inspection.sampled_on,
        "result": inspection.result,
        "notes": inspection.notes,
        "inspector": inspection.inspector.username,
        "recorded_at": inspection.recorded_at,
        "items": [{"name": i.name, "value": f"{i.value.normalize():f}",
                   "limit": None if i.limit is None else f"{i.limit.normalize():f}",
                   "limit_kind": i.limit_kind, "unit": i.unit, "passed": i.passed} for i in inspection.items.all()],
        "products": [{"id": p.pk, "name": p.name, "status": p.status}
                     for p in products.products_of_batch(inspection.batch)],
    }


@router.post("/inspections", response=responses({201: InspectionOut}, TraceCodeNotFound, NotAnInspector,
                                                InspectorOutsideRegion, DuplicateSampleCode, ResultContradictsItems),
             auth=auth_required, summary="Record an inspection (regulators)")
def create_inspection(request, payload: InspectionIn):  # noqa: ANN001, ANN201
    """A market-regulation inspector records a sample inspection of a batch in their region. Products
    sold from the batch are listed (pass, every batch passed) or delisted (fail) by the listing machine.
    An inspector of another region is refused with `inspector_outside_region`."""
    batch = selectors.batch_by_trace_code(payload.trace_code)
    inspection = services.record_inspection(
        actor=request.auth, batch=batch, sample_code=payload.sample_code, lab=payload.lab,
        sampled_on=payload.sampled_on, result=payload.result, notes=payload.notes,
        items=[services.ItemInput(name=i.name, value=i.value, limit=i.limit, limit_kind=i.limit_kind, unit=i.unit)
               for i in payload.items],
    )
    return Status(201, _inspection_out(inspection))


class InspectionFilters(Schema):
    trace_code: TraceCode | None = None
    result: Result | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/inspections", response=responses({200: InspectionPage}, (403, "cannot_view_inspections"),
                                               InspectorOutsideRegion, OutsideRegion, TraceCodeNotFound),
            auth=auth_required, summary="Inspections in your region")
def list_inspections(request, filters: Query[InspectionFilters]):  # noqa: ANN001, ANN201
    """Regulators and county operators see their region's inspections, producer managers their own
    producers', platform admins all. Filtering by a batch outside the caller's region is refused
    (`inspector_outside_region` for inspectors)."""
    user = request.auth
    if not selectors.can_read_inspections(user):
        raise PermissionDenied("Inspections are open to regulators, county operators and producer managers.",
                               code="cannot_view_inspections")
    qs = selectors.inspections_visible_to(user)
    if filters.trace_code is not None:
        batch = selectors.batch_by_trace_code(filters.trace_code)
        village = batch.plot.producer.village
        # An inspector asking about a batch they may not inspect is told so in the inspectors' words.
        if policy.can(user, "inspection.record") and not policy.can(user, "inspection.record", batch):
            raise InspectorOutsideRegion()
        if not qs.filter(batch=batch).exists() and not user_covers_region(user, village):
            raise OutsideRegion()
        qs = qs.filter(batch=batch)
    if filters.result is not None:
        qs = qs.filter(result=filters.result)
    qs = qs.order_by("-sampled_on", "-id")
    page = qs[filters.offset:filters.offset + filters.limit]
    return {"count": qs.count(), "limit": filters.limit, "offset": filters.offset,
            "items": [_inspection_out(i) for i in page]}


class BatchOut(Schema):
    id: int
    plot_id: int
    producer_id: int
    harvested_on: dt.date
    quantity: str = Field(description="Decimal string.")
    unit: BatchUnit
    grade: str
    shelf_life_days: int | None
    lot_number: str
    trace_code: str
    inspection_result: Literal["pass", "fail"] | None = Field(
        description="Result of the latest sample inspection; null if never inspected.")


class BatchPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[BatchOut]


class BatchIn(RequestSchema):
    plot_id: Id
    harvested_on: dt.date
    quantity: Quantity
    unit: BatchUnit = "jin"
    grade: str = text_field("", max_length=50)
    shelf_life_days: int | None = Field(None, ge=1, le=3650)
    lot_number: str = text_field("", max_length=40)


def batch_out(batch: HarvestBatch) -> dict:
    inspections = sorted(batch.inspections.all(), key=lambda i: (i.sampled_on, i.pk))
    return {
        "id": batch.pk, "plot_id": batch.plot_id, "producer_id": batch.plot.producer_id,
        "harvested_on": batch.harvested_on, "quantity": str(batch.quantity), "unit": batch.unit,
        "grade": batch.grade, "shelf_life_days": batch.shelf_life_days, "lot_number": batch.lot_number,
        "trace_code": batch.trace_code, "inspection_result": inspections[-1].result if inspections else None,
    }


# --- harvest batches with their latest inspection (moved from producers: inspections are quality's) ---
# The operation ids stay those the endpoints were published with, so generated clients keep their names.

@router.get("/batches", response=responses({200: BatchPage}, PermissionDenied, PlotNotFound, ProducerNotFound),
            auth=auth_required,
            tags=["batches"], operation_id="zhunong_producers_api_list_batches")
def list_batches(request, plot_id: Id | None = Query(None), producer_id: Id | None = Query(None),  # noqa: ANN001, ANN201, B008
                 limit: int = Limit, offset: int = Offset):
    user = back_office_user(request)
    qs = selectors.batches_visible_to(user)
    if plot_id is not None:
        qs = qs.filter(plot=producer_backoffice.get_visible_plot(user, plot_id))
    if producer_id is not None:
        qs = qs.filter(plot__producer=producer_backoffice.get_visible_producer(user, producer_id))
    return page(qs, limit, offset, batch_out)


@router.post("/batches", response=responses({201: BatchOut}, PermissionDenied, PlotNotFound),
             auth=auth_required, tags=["batches"], operation_id="zhunong_producers_api_create_batch")
def create_batch(request, payload: BatchIn):  # noqa: ANN001, ANN201
    """Record a harvest; the batch gets its trace code. Batches are not edited afterwards."""
    user = back_office_user(request)
    data = payload.model_dump()
    plot = producer_backoffice.get_visible_plot(user, data.pop("plot_id"))
    batch = producer_services.create_batch(actor=user, plot=plot, **data)
    return Status(201, batch_out(selectors.batches_visible_to(user).get(pk=batch.pk)))
