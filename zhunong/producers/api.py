"""API for regions (public) and, for the back office, producers and plots (harvest batches, which show
their inspections, are served by quality.api).

Handlers parse, look the referenced objects up through the caller's scope (what they cannot see is
404), call a service (which checks what they may do: 403) and respond. Phone numbers and payee
accounts are only ever returned masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.db.models import QuerySet
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from zhunong.accounts.api import Id, back_office_user, decimal_field, text_field
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.core.schemas import RequestSchema

from . import backoffice, selectors, services
from .errors import OutsideRegion, ProducerNotFound, RegionLevelMismatch, UnknownRegion
from .models import HarvestBatch, Plot, Producer, Region

router = Router()

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 100_000
# A whole tree in one response is for a county platform (hundreds of villages), not a national one.
MAX_TREE_NODES = 5000

RegionLevel = Literal[tuple(Region.LEVEL_ORDER)]  # type: ignore[valid-type]
ProducerKind = Literal[tuple(Producer.Kind.values)]  # type: ignore[valid-type]
BatchUnit = Literal[tuple(HarvestBatch.Unit.values)]  # type: ignore[valid-type]
RegionCode = Annotated[str, Field(min_length=1, max_length=selectors.MAX_REGION_CODE_LENGTH)]
Area = decimal_field(gt=0, le=1_000_000, description="Area in mu (亩), up to 2 decimals.")
Quantity = decimal_field(gt=0, le=100_000_000)

Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


def page(qs: QuerySet, limit: int, offset: int, out) -> dict:  # noqa: ANN001
    """One page of a queryset: {count, limit, offset, items}."""
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [out(obj) for obj in qs[offset:offset + limit]]}


# --- schemas ---------------------------------------------------------------------------------------

class RegionRef(Schema):
    id: int
    code: str
    name: str
    level: RegionLevel


class RegionOut(RegionRef):
    parent_code: str | None


class RegionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RegionOut]


class RegionNode(RegionRef):
    children: list[RegionNode]


class ProducerOut(Schema):
    id: int
    name: str
    kind: ProducerKind
    village: RegionRef
    registered_poor: bool
    description: str
    contact_name: str
    contact_phone_masked: str = Field(description="Only the first 3 and last 4 digits are shown.")
    payee_name: str
    payee_account_masked: str = Field(description="Only the last 4 characters are shown.")
    shipping_address: str
    manager_ids: list[int]
    created_at: dt.datetime


class ProducerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProducerOut]


class ProducerIn(RequestSchema):
    name: str = text_field(max_length=100, required=True)
    village_id: Id
    kind: ProducerKind = "household"
    registered_poor: StrictBool = False
    description: str = text_field("", max_length=2000, multiline=True)
    contact_name: str = text_field("", max_length=50)
    contact_phone: str = text_field("", max_length=20)
    payee_name: str = text_field("", max_length=50)
    payee_account: str = text_field("", max_length=40)
    shipping_address: str = text_field("", max_length=200)


class ProducerPatch(RequestSchema):
    name: str | None = text_field(None, max_length=100, required=True)
    village_id: Id | None = None
    kind: ProducerKind | None = None
    registered_poor: StrictBool | None = None
    description: str | None = text_field(None, max_length=2000, multiline=True)
    contact_name: str | None = text_field(None, max_length=50)
    contact_phone: str | None = text_field(None, max_length=20)
    payee_name: str | None = text_field(None, max_length=50)
    payee_account: str | None = text_field(None, max_length=40)
    shipping_address: str | None = text_field(None, max_length=200)


class PlotOut(Schema):
    id: int
    producer_id: int
    name: str
    area_mu: str = Field(description="Decimal string, e.g. \"12.50\".")
    crop: str
    variety: str
    soil_type: str
    location: str


class PlotPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PlotOut]


class PlotIn(RequestSchema):
    producer_id: Id
    name: str = text_field(max_length=100, required=True)
    area_mu: Area
    crop: str = text_field(max_length=50, required=True)
    variety: str = text_field("", max_length=50)
    soil_type: str = text_field("", max_length=50)
    location: str = text_field("", max_length=200)


# --- output --------------------------------------------------------------------------------------

def region_ref(region: Region) -> dict:
    return {"id": region.pk, "code": region.code, "name": region.name, "level": region.level}


def _region_out(region: Region) -> dict:
    parent_code = region.path.rstrip("/").split("/")[-2] if region.parent_id else None
    return {**region_ref(region), "parent_code": parent_code or None}


def producer_out(producer: Producer) -> dict:
    return {
        "id": producer.pk, "name": producer.name, "kind": producer.kind, "village": region_ref(producer.village),
        "registered_poor": producer.registered_poor, "description": producer.description,
        "contact_name": producer.contact_name, "contact_phone_masked": producer.contact_phone_masked,
        "payee_name": producer.payee_name, "payee_account_masked": producer.payee_account_masked,
        "shipping_address": producer.shipping_address,
        "manager_ids": sorted(m.pk for m in producer.managers.all()), "created_at": producer.created_at,
    }


def plot_out(plot: Plot) -> dict:
    return {"id": plot.pk, "producer_id": plot.producer_id, "name": plot.name, "area_mu": str(plot.area_mu),
            "crop": plot.crop, "variety": plot.variety, "soil_type": plot.soil_type, "location": plot.location}


# --- regions (public) ----------------------------------------------------------------------------

@router.get("/regions", response=responses({200: RegionPage}, UnknownRegion), auth=None, tags=["regions"])
def list_regions(request, parent: RegionCode | None = Query(None, description="Code of the parent region."),  # noqa: ANN001, ANN201, B008
                 level: RegionLevel | None = Query(None, description="With `parent`: every region of this "  # noqa: B008
                                                   "level in the parent's subtree, not just its children."),
                 limit: int = Limit, offset: int = Offset):
    """Regions by parent: the top level (provinces) without `parent`, a region's children with it."""
    if parent is None:
        qs = selectors.regions_at_level(level) if level is not None else selectors.top_regions()
    else:
        region = selectors.get_region_by_code(parent)
        qs = (selectors.regions_below(region, level=level) if level is not None
              else selectors.child_regions(region))
    return page(qs.order_by("path"), limit, offset, _region_out)


@router.get("/regions/tree", response=responses({200: list[RegionNode]}, UnknownRegion), auth=None,
            tags=["regions"])
def region_tree(request, root: RegionCode | None = Query(None, description="Code of the subtree's root; "  # noqa: ANN001, ANN201, B008
                                                            "the whole tree without it.")):
    """The region tree (province → city → county → township → village), nested."""
    regions = list(selectors.region_subtree(selectors.get_region_by_code(root) if root is not None else None)
                   [:MAX_TREE_NODES])
    nodes = {r.pk: {**region_ref(r), "children": []} for r in regions}
    roots = []
    for region in regions:
        parent = nodes.get(region.parent_id)
        (parent["children"] if parent is not None else roots).append(nodes[region.pk])
    return roots


# --- producers ------------------------------------------------------------------------------------

def _producers(user) -> QuerySet[Producer]:  # noqa: ANN001
    return backoffice.visible_producers(user).prefetch_related("managers")


@router.get("/producers", response=responses({200: ProducerPage}, PermissionDenied, UnknownRegion),
            auth=auth_required, tags=["producers"])
def list_producers(request, region: RegionCode | None = Query(None, description="Region code: producers "  # noqa: ANN001, ANN201, B008
                                                                 "in its subtree."),
                   limit: int = Limit, offset: int = Offset):
    """Producers the caller may see (their region, or the producers they manage)."""
    qs = _producers(back_office_user(request))
    if region is not None:
        qs = qs.filter(village__path__startswith=selectors.get_region_by_code(region).path)
    return page(qs, limit, offset, producer_out)


@router.post("/producers", response=responses({201: ProducerOut}, PermissionDenied, OutsideRegion, UnknownRegion,
                                              RegionLevelMismatch),
             auth=auth_required, tags=["producers"])
def create_producer(request, payload: ProducerIn):  # noqa: ANN001, ANN201
    """Register a producer in a village of the caller's county (county operators, platform admins)."""
    user = back_office_user(request)
    data = payload.model_dump()
    village = backoffice.get_region(data.pop("village_id"))
    producer = services.create_producer(actor=user, village=village, **data)
    return Status(201, producer_out(_producers(user).get(pk=producer.pk)))


@router.get("/producers/{producer_id}", response=responses({200: ProducerOut}, PermissionDenied, ProducerNotFound),
            auth=auth_required, tags=["producers"])
def get_producer(request, producer_id: Id):  # noqa: ANN001, ANN201
    user = back_office_user(request)
    backoffice.get_visible_producer(user, producer_id)
    return producer_out(_producers(user).get(pk=producer_id))


@router.patch("/producers/{producer_id}", response=responses({200: ProducerOut}, PermissionDenied, OutsideRegion,
                                                              ProducerNotFound, UnknownRegion, RegionLevelMismatch),
              auth=auth_required, tags=["producers"])
def update_producer(request, producer_id: Id, payload: ProducerPatch):  # noqa: ANN001, ANN201
    """Change the fields given; moving to another village needs rights there too."""
    user = back_office_user(request)
    producer = backoffice.get_visible_producer(user, producer_id)
    changes = payload.model_dump(exclude_unset=True)
    village_id = changes.pop("village_id", None)
    village = backoffice.get_region(village_id) if village_id is not None else None
    services.update_producer(actor=user, producer=producer, village=village, **changes)
    return producer_out(_producers(user).get(pk=producer_id))


# --- plots ----------------------------------------------------------------------------------------

@router.get("/plots", response=responses({200: PlotPage}, PermissionDenied, ProducerNotFound), auth=auth_required,
            tags=["plots"])
def list_plots(request, producer_id: Id | None = Query(None), limit: int = Limit, offset: int = Offset):  # noqa: ANN001, ANN201, B008
    user = back_office_user(request)
    qs = backoffice.visible_plots(user)
    if producer_id is not None:
        qs = qs.filter(producer=backoffice.get_visible_producer(user, producer_id))
    return page(qs, limit, offset, plot_out)


@router.post("/plots", response=responses({201: PlotOut}, PermissionDenied, OutsideRegion, ProducerNotFound),
             auth=auth_required,
             tags=["plots"])
def create_plot(request, payload: PlotIn):  # noqa: ANN001, ANN201
    """Add a plot to a producer (its county's operator, its manager, a platform admin)."""
    user = back_office_user(request)
    data = payload.model_dump()
    producer = backoffice.get_visible_producer(user, data.pop("producer_id"))
    plot = services.create_plot(actor=user, producer=producer, **data)
    return Status(201, plot_out(backoffice.visible_plots(user).get(pk=plot.pk)))
