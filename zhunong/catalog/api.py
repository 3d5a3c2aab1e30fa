"""Product API: the public catalogue (listed products only) and the back office's product endpoints.

Every write calls `catalog.services`, which enforces the listing state machine, the below-cost rule
and who may act on which region. Public responses carry no payee or phone data at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool, StrictInt

from zhunong.accounts.api import TEXT_PATTERN, Id, back_office_user, decimal_field, text_field
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.core.schemas import RequestSchema
from zhunong.core.text import has_control_chars
from zhunong.producers import backoffice as producer_backoffice
from zhunong.producers import selectors as producer_selectors
from zhunong.producers.api import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, RegionCode, page
from zhunong.producers.errors import BatchNotFound, OutsideRegion, ProducerNotFound, UnknownRegion

from . import backoffice, selectors, services
from .errors import (
    BatchStillNeeded,
    BelowCostWithoutReason,
    GtinTaken,
    NoBatches,
    NotInspected,
    ProductNotFound,
)
from .models import ListingStatus, Product
from .templatetags.storefront import picture_sources

router = Router(tags=["products"])

ProductUnit = Literal[tuple(Product.Unit.values)]  # type: ignore[valid-type]
ListingState = Literal[tuple(ListingStatus.values)]  # type: ignore[valid-type]
Price = decimal_field(gt=0, le=int(services.MAX_PRICE), description="Yuan, more than 0, up to 2 decimals.")
CostFloor = decimal_field(ge=0, le=int(services.MAX_PRICE), description="Yuan, 0 or more, up to 2 decimals.")
Gtin = Annotated[str, Field(pattern=r"^[0-9]{8}([0-9]{4,6})?$", description="8, 12, 13 or 14 digits.")]

Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip.")
SearchQuery = Query(None, max_length=selectors.MAX_QUERY_LENGTH,
                    description="Search text, simplified or traditional Chinese (藍莓 finds 蓝莓).")
# The characters the search refuses (422 invalid), stated in the document.
SearchText = Annotated[str, Field(json_schema_extra={"pattern": TEXT_PATTERN})]
RegionFilter = Query(None, description="Region code: products from its subtree (origin or a producer's village).")


# --- schemas ---------------------------------------------------------------------------------------

class OriginOut(Schema):
    id: int
    code: str
    name: str
    full_name: str = Field(description="Province to region, e.g. 山东省青岛市胶州市.")


class ProducerRef(Schema):
    id: int
    name: str
    kind: str
    village: str = Field(description="Village name; never a household's address.")


class ImageOut(Schema):
    url: str = Field(description="The JPEG fallback (480 px wide, or narrower if the upload was).")
    caption: str
    srcset: str = Field(description="WebP renditions as an HTML srcset (\"/media/... 240w, ... 480w, ... 960w\"); "
                        "empty for a photo from before the image pipeline.")
    width: int | None = Field(description="Width of `url` in pixels.")
    height: int | None = Field(description="Height of `url` in pixels.")


class ProductOut(Schema):
    id: int
    name: str
    description: str
    unit: ProductUnit
    unit_size: str
    price: str = Field(description="Decimal string in yuan, e.g. \"39.90\".")
    stock: int
    featured: bool
    origin: OriginOut
    producers: list[ProducerRef]
    images: list[ImageOut]
    trace_codes: list[str] = Field(description="Trace codes of the batches it is sold from (/t/<code>).")


class ProductPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProductOut]


class BatchRef(Schema):
    id: int
    trace_code: str
    inspection_result: Literal["pass", "fail"] | None


class ListingTransitionOut(Schema):
    from_status: ListingState
    to_status: ListingState
    actor: str | None
    reason: str
    at: dt.datetime


class StaffProductOut(ProductOut):
    status: ListingState
    cost_floor: str
    below_cost_reason: str
    gtin: str | None
    batches: list[BatchRef]
    created_at: dt.datetime
    updated_at: dt.datetime
    listing_history: list[ListingTransitionOut] | None = Field(
        None, description="The listing state machine's history (single-product responses only).")


class StaffProductPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[StaffProductOut]


class ProductIn(RequestSchema):
    name: str = text_field(max_length=100, required=True)
    description: str = text_field("", max_length=5000, multiline=True)
    unit: ProductUnit = "jin"
    unit_size: str = text_field("", max_length=50)
    price: Price
    cost_floor: CostFloor
    below_cost_reason: str = text_field("", max_length=300, description="Required when price < cost_floor.")
    origin_id: Id
    producer_ids: list[Id] = Field(min_length=1, max_length=50)
    batch_ids: list[Id] = Field(default_factory=list, max_length=200)
    stock: StrictInt = Field(0, ge=0, le=10_000_000)
    gtin: Gtin | None = None
    featured: StrictBool = False


class ProductPatch(RequestSchema):
    name: str | None = text_field(None, max_length=100, required=True)
    description: str | None = text_field(None, max_length=5000, multiline=True)
    unit: ProductUnit | None = None
    unit_size: str | None = text_field(None, max_length=50)
    price: Price | None = None
    cost_floor: CostFloor | None = None
    below_cost_reason: str | None = text_field(
        None, max_length=300, description="Required when the new price is below the cost floor.")
    stock: StrictInt | None = Field(None, ge=0, le=10_000_000)
    gtin: Gtin | Literal[""] | None = Field(None, description="\"\" removes the GTIN.")
    featured: StrictBool | None = None
    producer_ids: list[Id] | None = Field(None, min_length=1, max_length=50)
    batch_ids: list[Id] | None = Field(None, max_length=200)


class DelistIn(RequestSchema):
    reason: str = text_field(max_length=300, required=True)


class AddBatchIn(RequestSchema):
    batch_id: Id


# --- output --------------------------------------------------------------------------------------

def _latest_result(batch) -> str | None:  # noqa: ANN001
    inspections = sorted(batch.inspections.all(), key=lambda i: (i.sampled_on, i.pk))
    return inspections[-1].result if inspections else None


def _image_out(image) -> dict:  # noqa: ANN001
    src = picture_sources(image)
    return {"url": src["src"], "caption": image.caption, "srcset": src["srcset"], "width": src["width"],
            "height": src["height"]}


def product_out(product: Product) -> dict:
    return {
        "id": product.pk, "name": product.name, "description": product.description, "unit": product.unit,
        "unit_size": product.unit_size, "price": str(product.price), "stock": product.stock,
        "featured": product.featured,
        "origin": {"id": product.origin_id, "code": product.origin.code, "name": product.origin.name,
                   "full_name": product.origin.full_name},
        "producers": [{"id": p.pk, "name": p.name, "kind": p.kind, "village": p.village.name}
                      for p in product.producers.all()],
        "images": [_image_out(i) for i in product.images.all() if i.is_ready and i.image],
        "trace_codes": sorted(b.trace_code for b in product.batches.all()),
    }


def staff_product_out(product: Product, *, history: bool = False) -> dict:
    out = product_out(product)
    out.update({
        "status": product.status, "cost_floor": str(product.cost_floor),
        "below_cost_reason": product.below_cost_reason, "gtin": product.gtin,
        "batches": [{"id": b.pk, "trace_code": b.trace_code, "inspection_result": _latest_result(b)}
                    for b in product.batches.all()],
        "created_at": product.created_at, "updated_at": product.updated_at,
    })
    if history:
        out["listing_history"] = [
            {"from_status": t.from_status, "to_status": t.to_status,
             "actor": t.actor.username if t.actor else None, "reason": t.reason, "at": t.at}
            for t in product.listing_history.all()]
    return out


def _clean_query(q: str | None) -> str | None:
    if q is not None and has_control_chars(q):
        raise ValidationFailed("q: contains control characters.", details={"field": "q"})
    return q


# --- public -------------------------------------------------------------------------------------

@router.get("/products", response=responses({200: ProductPage}, UnknownRegion), auth=None)
def list_products(request, q: SearchText | None = SearchQuery, region: RegionCode | None = RegionFilter,  # noqa: ANN001, ANN201
                  limit: int = Limit, offset: int = Offset):
    """Listed products, optionally searched (`q`) and limited to a region's subtree (`region`)."""
    q = _clean_query(q)
    base = selectors.listed_products()
    if region is not None:
        base = selectors.products_in_region(producer_selectors.get_region_by_code(region).path)
    qs = selectors.search_products(q, base=base) if q else base
    qs = qs.select_related("origin__parent__parent__parent__parent").prefetch_related(
        "producers__village", "batches")
    return page(qs, limit, offset, product_out)


@router.get("/products/{product_id}", response=responses({200: ProductOut}, ProductNotFound), auth=None)
def get_product(request, product_id: Id):  # noqa: ANN001, ANN201
    """A listed product; anything else (draft, awaiting inspection, delisted, unknown) is 404."""
    return product_out(selectors.get_listed_product(product_id))


# --- back office -----------------------------------------------------------------------------------

@router.get("/backoffice/products", response=responses({200: StaffProductPage}, PermissionDenied, UnknownRegion),
            auth=auth_required)
def list_staff_products(request, status: ListingState | None = Query(None, description="Listing status."),  # noqa: ANN001, ANN201, B008
                        q: SearchText | None = SearchQuery, region: RegionCode | None = RegionFilter,
                        limit: int = Limit, offset: int = Offset):
    """Products in every status that the caller may see (their region, or their producers')."""
    user = back_office_user(request)
    q = _clean_query(q)
    qs = backoffice.visible_products(user)
    if status is not None:
        qs = qs.filter(status=status)
    if region is not None:
        qs = qs.filter(origin__path__startswith=producer_selectors.get_region_by_code(region).path)
    if q:
        qs = selectors.search_products(q, base=qs)
    return page(qs, limit, offset, staff_product_out)


@router.get("/backoffice/products/{product_id}",
            response=responses({200: StaffProductOut}, PermissionDenied, ProductNotFound),
            auth=auth_required)
def get_staff_product(request, product_id: Id):  # noqa: ANN001, ANN201
    """One product in any status, with its listing history."""
    user = back_office_user(request)
    return staff_product_out(backoffice.get_visible_product(user, product_id, with_history=True), history=True)


def _respond(user, product_id: int) -> dict:  # noqa: ANN001
    return staff_product_out(backoffice.get_visible_product(user, product_id, with_history=True), history=True)


@router.post("/products", response=responses({201: StaffProductOut}, PermissionDenied, OutsideRegion, UnknownRegion,
                                             ProducerNotFound, BatchNotFound, GtinTaken, BelowCostWithoutReason),
             auth=auth_required)
def create_product(request, payload: ProductIn):  # noqa: ANN001, ANN201
    """Create a draft product (county operators, platform admins). A price below `cost_floor` needs
    `below_cost_reason` and raises an integrity flag."""
    user = back_office_user(request)
    data = payload.model_dump()
    origin = producer_backoffice.get_region(data.pop("origin_id"))
    producers = [producer_backoffice.get_visible_producer(user, pk) for pk in dict.fromkeys(data.pop("producer_ids"))]
    batches = [producer_backoffice.get_visible_batch(user, pk) for pk in dict.fromkeys(data.pop("batch_ids"))]
    product = services.create_product(actor=user, origin=origin, producers=producers, batches=batches, **data)
    return Status(201, _respond(user, product.pk))


@router.patch("/products/{product_id}", response=responses(
                  {200: StaffProductOut}, PermissionDenied, OutsideRegion, ProductNotFound, ProducerNotFound,
                  BatchNotFound, GtinTaken, BatchStillNeeded, InvalidTransition, BelowCostWithoutReason),
              auth=auth_required)
def update_product(request, product_id: Id, payload: ProductPatch):  # noqa: ANN001, ANN201
    """Change the fields given. A new price goes through the price rules (history, below-cost reason and
    flag); a new batch on a listed product sends it back to awaiting inspection."""
    user = back_office_user(request)
    product = backoffice.get_visible_product(user, product_id)
    changes = payload.model_dump(exclude_unset=True)
    if "producer_ids" in changes:
        ids = changes.pop("producer_ids")
        changes["producers"] = None if ids is None else [
            producer_backoffice.get_visible_producer(user, pk) for pk in dict.fromkeys(ids)]
    if "batch_ids" in changes:
        ids = changes.pop("batch_ids")
        changes["batches"] = None if ids is None else [
            producer_backoffice.get_visible_batch(user, pk) for pk in dict.fromkeys(ids)]
    services.update_product(actor=user, product=product, **changes)
    return _respond(user, product_id)


@router.post("/products/{product_id}/submit", response=responses(
                 {200: StaffProductOut}, PermissionDenied, OutsideRegion, ProductNotFound, NoBatches, InvalidTransition),
             auth=auth_required)
def submit_product(request, product_id: Id):  # noqa: ANN001, ANN201
    """Draft or delisted → awaiting inspection; listed at once if every batch has passed inspection."""
    user = back_office_user(request)
    services.submit_for_inspection(actor=user, product=backoffice.get_visible_product(user, product_id))
    return _respond(user, product_id)


@router.post("/products/{product_id}/list", response=responses(
                 {200: StaffProductOut}, PermissionDenied, OutsideRegion, ProductNotFound, NoBatches, NotInspected,
                 InvalidTransition),
             auth=auth_required)
def list_product(request, product_id: Id):  # noqa: ANN001, ANN201
    """Awaiting inspection → listed; 409 `not_inspected` unless every batch passed its latest inspection."""
    user = back_office_user(request)
    services.list_product(actor=user, product=backoffice.get_visible_product(user, product_id))
    return _respond(user, product_id)


@router.post("/products/{product_id}/delist", response=responses(
                 {200: StaffProductOut}, PermissionDenied, OutsideRegion, ProductNotFound, InvalidTransition),
             auth=auth_required)
def delist_product(request, product_id: Id, payload: DelistIn):  # noqa: ANN001, ANN201
    """Take a product off sale, with a reason (its county's operators and regulators)."""
    user = back_office_user(request)
    services.delist_product(actor=user, product=backoffice.get_visible_product(user, product_id),
                            reason=payload.reason)
    return _respond(user, product_id)


@router.post("/products/{product_id}/batches", response=responses(
                 {200: StaffProductOut}, PermissionDenied, OutsideRegion, ProductNotFound, BatchNotFound,
                 InvalidTransition),
             auth=auth_required)
def add_product_batch(request, product_id: Id, payload: AddBatchIn):  # noqa: ANN001, ANN201
    """Sell from one more batch; a listed product goes back to awaiting inspection until it passes."""
    user = back_office_user(request)
    product = backoffice.get_visible_product(user, product_id)
    services.add_batch(actor=user, product=product, batch=producer_backoffice.get_visible_batch(user, payload.batch_id))
    return _respond(user, product_id)
