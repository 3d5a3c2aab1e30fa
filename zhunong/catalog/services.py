"""Writes for products: creation, prices, batches and the listing state machine.

The listing machine (one table, below) is the only way a product's status changes:

    draft ──submit──▶ awaiting_inspection ──(every batch passed)──▶ listed ──▶ delisted
                            ▲                                         │          │
                            └──────── a new batch is added ───────────┘          │
                            └──────────────── relist ────────────────────────────┘

Nothing is listed without a passed inspection of every batch it sells from. A price below the cost
floor needs a recorded reason and raises a flag for the integrity office.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core import images
from zhunong.core.audit import record_action
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.integrity import ConcernKind, refusals_recorded, report_concern
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text
from zhunong.producers.errors import OutsideRegion
from zhunong.producers.models import HarvestBatch, Producer, Region
from zhunong.zh.text import index_text

from .errors import (
    BatchStillNeeded,
    BelowCostWithoutReason,
    GtinTaken,
    NoBatches,
    NotInspected,
    TooManyImages,
)
from .models import ImageStatus, ListingStatus, ListingTransition, PriceChange, Product, ProductImage
from .selectors import uninspected_batches
from .signals import product_image_uploaded

log = logging.getLogger(__name__)

S = ListingStatus
LISTING = TransitionTable(
    "listing",
    {
        S.DRAFT: {S.AWAITING_INSPECTION},
        S.AWAITING_INSPECTION: {S.LISTED, S.DELISTED, S.DRAFT},
        S.LISTED: {S.DELISTED, S.AWAITING_INSPECTION},
        S.DELISTED: {S.AWAITING_INSPECTION},
    },
)

MAX_PRICE = Decimal("1000000")


def _require_operator(actor: User | None, region: Region) -> None:
    if actor is None:
        raise PermissionDenied("An operator is required.")
    policy.require(actor, "product.manage", region,
                   error=PermissionDenied("Only county operators manage products."), outside=OutsideRegion)


def _check_price(*, price: Decimal, cost_floor: Decimal, reason: str) -> None:
    if price < cost_floor and not reason:
        raise BelowCostWithoutReason(
            f"Price {price} is below the cost floor {cost_floor}; give a reason.",
            details={"field": "below_cost_reason", "price": str(price), "cost_floor": str(cost_floor)},
        )


def _flag_below_cost(product: Product, actor: User | None) -> None:
    report_concern(
        kind=ConcernKind.BELOW_COST,
        summary=f"{product.name}: 售价 {product.price} 低于成本底价 {product.cost_floor}",
        subject=product,
        region=product.origin,
        details={"price": str(product.price), "cost_floor": str(product.cost_floor),
                 "reason": product.below_cost_reason},
        raised_by=actor,
    )


def reindex(product: Product) -> None:
    producers = " ".join(p.name for p in product.producers.all()) if product.pk else ""
    origin = product.origin.full_name if product.origin_id else ""
    product.search_text = index_text(product.name, product.unit_size, origin, producers, product.description)
    Product.objects.filter(pk=product.pk).update(search_text=product.search_text)


def check_can_manage_products(*, actor: User | None, region: Region) -> None:
    """Who may create and change products of this origin: a platform admin or its county's operator."""
    _require_operator(actor, region)


def clean_product_fields(*, actor: User, name: str, price: object, cost_floor: object, origin: Region,
                         producers: Iterable[Producer], batches: Iterable[HarvestBatch] = (), unit: str = "jin",
                         unit_size: str = "", description: str = "", stock: int = 0, gtin: str | None = None,
                         below_cost_reason: str = "", featured: bool = False,
                         product: Product | None = None) -> dict:
    """Every rule a product's fields must meet, shared by create, update and the admin form.

    `product` is the product being changed (its own GTIN is not a clash). Returns the clean values.
    """
    _require_operator(actor, origin)
    producers = list(producers)
    batches = list(batches)
    if not producers:
        raise ValidationFailed("producers: at least one producer supplies a product.", details={"field": "producers"})
    county = origin.ancestor_at("county") or origin
    for producer in producers:
        if not producer.village.is_within(county):
            raise ValidationFailed("producers: a producer is outside the product's origin county.",
                                   details={"field": "producers"})
    producer_ids = {p.pk for p in producers}
    for batch in batches:
        if batch.plot.producer_id not in producer_ids:
            raise ValidationFailed("batches: a batch does not belong to the product's producers.",
                                   details={"field": "batches"})
    if unit not in Product.Unit.values:
        raise ValidationFailed("unit: unknown unit.", details={"field": "unit"})
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= 10_000_000:
        raise ValidationFailed("stock: a whole number from 0 to 10000000.", details={"field": "stock"})
    if gtin:
        gtin = gtin.strip()
        if not (gtin.isdigit() and len(gtin) in (8, 12, 13, 14)):
            raise ValidationFailed("gtin: 8, 12, 13 or 14 digits.", details={"field": "gtin"})
        clash = Product.objects.filter(gtin=gtin)
        if product is not None and product.pk:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            raise GtinTaken(details={"field": "gtin"})
    price_d = clean_decimal(price, field="price", max_value=MAX_PRICE)
    cost_d = clean_decimal(cost_floor, field="cost_floor", max_value=MAX_PRICE, allow_zero=True)
    reason = clean_text(below_cost_reason, field="below_cost_reason", max_length=300, required=False)
    _check_price(price=price_d, cost_floor=cost_d, reason=reason)
    return {
        "name": clean_text(name, field="name", max_length=100),
        "description": clean_text(description, field="description", max_length=5000, required=False,
                                  multiline=True),
        "unit": unit,
        "unit_size": clean_text(unit_size, field="unit_size", max_length=50, required=False),
        "price": price_d,
        "cost_floor": cost_d,
        "below_cost_reason": reason if price_d < cost_d else "",
        "origin": origin,
        "stock": stock,
        "gtin": gtin or None,
        "featured": bool(featured),
        "producers": producers,
        "batches": batches,
    }


@refusals_recorded("catalog.below_cost_refused", BelowCostWithoutReason)
@transaction.atomic
def create_product(*, actor: User, name: str, price: object, cost_floor: object, origin: Region,
                   producers: Iterable[Producer], batches: Iterable[HarvestBatch] = (), unit: str = "jin",
                   unit_size: str = "", description: str = "", stock: int = 0, gtin: str | None = None,
                   below_cost_reason: str = "", featured: bool = False) -> Product:
    values = clean_product_fields(
        actor=actor, name=name, price=price, cost_floor=cost_floor, origin=origin, producers=producers,
        batches=batches, unit=unit, unit_size=unit_size, description=description, stock=stock, gtin=gtin,
        below_cost_reason=below_cost_reason, featured=featured)
    producers, batches = values.pop("producers"), values.pop("batches")
    product = Product.objects.create(**values)
    product.producers.set(producers)
    product.batches.set(batches)
    PriceChange.objects.create(product=product, price=product.price, actor=actor, reason="created")
    record_action(actor=actor, action="catalog.product_changed", subject=product, before=None,
                  after={f: _audit_value(v) for f, v in values.items()})
    if product.below_cost:
        _flag_below_cost(product, actor)
    reindex(product)
    return product


def check_keeps_a_batch(*, product: Product, batches: Iterable[HarvestBatch]) -> None:
    """A product on sale, or waiting for inspection, cannot drop its last batch (listing needs one)."""
    if not list(batches) and product.status in (S.LISTED, S.AWAITING_INSPECTION):
        raise BatchStillNeeded(details={"field": "batches"})


_PRODUCT_FIELDS = ("name", "description", "unit", "unit_size", "price", "cost_floor", "below_cost_reason",
                   "origin", "stock", "gtin", "featured", "producers", "batches")


def _audit_value(value: object) -> object:
    return value.pk if hasattr(value, "pk") else value


def _audit_field_changes(actor: User, product: Product, values: dict[str, object]) -> None:
    """Audit a product edit: stock on its own entry, the other changed fields together (prices: change_price)."""
    changed = {f: v for f, v in values.items() if _audit_value(getattr(product, f)) != _audit_value(v)}
    if "stock" in changed:
        record_action(actor=actor, action="catalog.stock_changed", subject=product,
                      before={"stock": product.stock}, after={"stock": changed.pop("stock")})
    if changed:
        record_action(actor=actor, action="catalog.product_changed", subject=product,
                      before={f: _audit_value(getattr(product, f)) for f in changed},
                      after={f: _audit_value(v) for f, v in changed.items()})


@refusals_recorded("catalog.below_cost_refused", BelowCostWithoutReason, subject="product")
@transaction.atomic
def update_product(*, actor: User, product: Product, **changes: object) -> Product:
    """Change a product; only the keyword arguments given (not None) change. Status never changes here
    except as the listing machine demands:

    - a price or cost-floor change goes through `change_price` (history, below-cost rule and flag);
    - a new batch on a listed product sends it back to awaiting inspection (as `add_batch` does);
    - a product that is listed or awaiting inspection cannot lose its last batch.
    """
    unknown = set(changes) - set(_PRODUCT_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"{field}: not a product field that can be changed.", details={"field": field})
    product = Product.objects.select_for_update().select_related("origin").get(pk=product.pk)
    _require_operator(actor, product.origin)
    state = {f: getattr(product, f) for f in _PRODUCT_FIELDS if f not in ("producers", "batches")}
    state["producers"] = list(product.producers.all())
    state["batches"] = list(product.batches.select_related("plot"))
    old_batches = {b.pk for b in state["batches"]}
    state.update({k: v for k, v in changes.items() if v is not None})
    if changes.get("gtin") == "":
        state["gtin"] = None
    values = clean_product_fields(actor=actor, product=product, **state)
    producers, batches = values.pop("producers"), values.pop("batches")
    check_keeps_a_batch(product=product, batches=batches)

    price_changed = values["price"] != product.price or values["cost_floor"] != product.cost_floor
    price, cost_floor, reason = values.pop("price"), values.pop("cost_floor"), values.pop("below_cost_reason")
    _audit_field_changes(actor, product, values)
    for field_name, value in values.items():
        setattr(product, field_name, value)
    if not price_changed:
        # Same price: only the recorded reason may change (it is kept only while below cost).
        product.below_cost_reason = reason
    product.save()
    product.producers.set(producers)
    product.batches.set(batches)
    if price_changed:
        product = change_price(actor=actor, product=product, price=price, cost_floor=cost_floor, reason=reason)
    added = [b for b in batches if b.pk not in old_batches]
    if added and product.status == S.LISTED:
        codes = ", ".join(b.trace_code for b in added)
        _transition(product, S.AWAITING_INSPECTION, actor=actor, reason=f"new batch {codes}")
        _try_list(product, actor=actor, reason="all batches passed inspection")
    reindex(product)
    return product


# --- photos: checked and cleaned at upload, rendered in the worker (core/images.py, decision 0025) --------

MAX_IMAGES_PER_PRODUCT = 12


def _require_photo_manager(actor: User | None, product: Product) -> None:
    if not policy.can(actor, "product.photos", product):
        raise PermissionDenied("Only the county operator or the managers of the product's producers change "
                               "its photos.")


def check_can_manage_photos(*, actor: User | None, product: Product) -> None:
    """Who may change a product's photos: its county's operator, a platform admin, or the managers of
    every producer that supplies it (policy product.photos)."""
    _require_photo_manager(actor, product)


def _audit_photos(actor: User, product: Product, what: str, image: ProductImage) -> None:
    record_action(actor=actor, action="catalog.photos_changed", subject=product,
                  after={"what": what, "image": image.pk, "position": image.position})


def _store_master(product: Product, checked: images.CheckedImage) -> str:
    name = f"products/{product.pk}/{secrets.token_hex(8)}/master.webp"
    return default_storage.save(name, ContentFile(images.master(checked)))


def _renumber(product: Product, ordered: list[ProductImage]) -> None:
    for index, item in enumerate(ordered):
        if item.position != index:
            item.position = index
            ProductImage.objects.filter(pk=item.pk).update(position=index)


@transaction.atomic
def add_product_image(*, actor: User, product: Product, upload: object, caption: str = "",
                      as_cover: bool = False) -> ProductImage:
    """Check an upload by its content (core.images.check: JPEG/PNG/WebP, limits, decodes in full), keep
    an upright master without metadata, and queue its renditions (status `processing` until done).

    Refused input (ImageRefused, 422 image_invalid) stores nothing. A product has at most
    MAX_IMAGES_PER_PRODUCT photos; the new one goes last, or first with `as_cover`.
    """
    product = Product.objects.select_for_update().select_related("origin").get(pk=product.pk)
    _require_photo_manager(actor, product)
    caption = clean_text(caption, field="caption", max_length=100, required=False)
    existing = list(product.images.order_by("position", "pk"))
    if len(existing) >= MAX_IMAGES_PER_PRODUCT:
        raise TooManyImages(details={"field": "image", "max": MAX_IMAGES_PER_PRODUCT})
    checked = images.check(images.read_upload(upload))
    name = _store_master(product, checked)
    try:
        image = ProductImage.objects.create(
            product=product, image=name, caption=caption, position=len(existing),
            status=ImageStatus.PROCESSING, width=checked.width, height=checked.height, uploaded_at=timezone.now())
        if as_cover:
            _renumber(product, [image, *existing])
            image.position = 0
        _audit_photos(actor, product, "added", image)
    except Exception:
        default_storage.delete(name)  # nothing stored for an upload that was not recorded
        raise
    image_id = image.pk
    transaction.on_commit(lambda: product_image_uploaded.send(sender=ProductImage, image_id=image_id))
    return image


def process_product_image(*, image_id: int) -> ProductImage | None:
    """Make an uploaded photo's renditions (run by the worker: catalog.tasks). Idempotent: a photo already
    ready is left alone; one removed meanwhile is skipped (None)."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or image.status == ImageStatus.READY:
        return image
    try:
        with default_storage.open(image.image.name, "rb") as fh:
            master = images.open_master(fh.read())
        made = images.renditions(master)
    except (OSError, ValueError) as exc:
        ProductImage.objects.filter(pk=image_id).update(status=ImageStatus.FAILED)
        log.warning("product image %s could not be rendered: %s", image_id, exc)
        image.status = ImageStatus.FAILED
        return image
    folder = image.image.name.rsplit("/", 1)[0]
    out: dict = {"webp": [], "jpeg": None}
    for r in made:
        path = default_storage.save(f"{folder}/w{r.width}.{r.format}", ContentFile(r.data))
        entry = {"w": r.width, "h": r.height, "path": path}
        if r.format == "webp":
            out["webp"].append(entry)
        else:
            out["jpeg"] = entry
    with transaction.atomic():
        updated = ProductImage.objects.filter(pk=image_id).update(status=ImageStatus.READY, renditions=out)
    if not updated:  # removed while rendering: its files go too
        _delete_files(out, None)
        return None
    image.status, image.renditions = ImageStatus.READY, out
    return image


def _delete_files(renditions: dict, master_name: str | None) -> None:
    names = [r["path"] for r in renditions.get("webp") or []]
    if renditions.get("jpeg"):
        names.append(renditions["jpeg"]["path"])
    if master_name:
        names.append(master_name)
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name)


@transaction.atomic
def save_product_image(*, actor: User, product: Product, image: File | None = None, caption: str = "",
                       position: int | None = None, existing: ProductImage | None = None) -> ProductImage:
    """The admin's inline: a new file goes through add_product_image; an existing photo's caption and
    position change here (a new file for an existing photo replaces it: the old one is removed)."""
    _require_photo_manager(actor, product)
    if existing is not None and existing.product_id != product.pk:
        raise ValidationFailed("image: it belongs to another product.", details={"field": "image"})
    if existing is None or image is not None:
        if image is None:
            raise ValidationFailed("image: a file is required.", details={"field": "image"})
        if existing is not None:
            delete_product_image(actor=actor, image=existing)
        added = add_product_image(actor=actor, product=product, upload=image, caption=caption)
        if position is not None and position != added.position:
            added = move_product_image(actor=actor, image=added, to=position)
        return added
    existing.caption = clean_text(caption, field="caption", max_length=100, required=False)
    existing.save(update_fields=["caption"])
    if position is not None and position != existing.position:
        existing = move_product_image(actor=actor, image=existing, to=position)
    return existing


@transaction.atomic
def update_product_image(*, actor: User, image: ProductImage, caption: str) -> ProductImage:
    image = ProductImage.objects.select_for_update().select_related("product__origin").get(pk=image.pk)
    _require_photo_manager(actor, image.product)
    image.caption = clean_text(caption, field="caption", max_length=100, required=False)
    image.save(update_fields=["caption"])
    _audit_photos(actor, image.product, "caption", image)
    return image


@transaction.atomic
def move_product_image(*, actor: User, image: ProductImage, to: int) -> ProductImage:
    """Put a photo at position `to` (0 = the cover); the others keep their order around it."""
    product = Product.objects.select_for_update().select_related("origin").get(pk=image.product_id)
    _require_photo_manager(actor, product)
    if not isinstance(to, int) or isinstance(to, bool) or to < 0:
        raise ValidationFailed("position: 0 or more (0 is the cover).", details={"field": "position"})
    ordered = list(product.images.order_by("position", "pk"))
    target = next((i for i in ordered if i.pk == image.pk), None)
    if target is None:
        raise ValidationFailed("image: it belongs to another product.", details={"field": "image"})
    ordered.remove(target)
    ordered.insert(min(to, len(ordered)), target)
    _renumber(product, ordered)
    _audit_photos(actor, product, "moved", target)
    return target


@transaction.atomic
def delete_product_image(*, actor: User, image: ProductImage) -> None:
    image = ProductImage.objects.select_for_update().select_related("product__origin").filter(pk=image.pk).first()
    if image is None:
        return
    product = image.product
    _require_photo_manager(actor, product)
    _audit_photos(actor, product, "removed", image)
    renditions, master_name = dict(image.renditions or {}), image.image.name
    image.delete()
    _renumber(product, list(product.images.order_by("position", "pk")))
    transaction.on_commit(lambda: _delete_files(renditions, master_name))


@refusals_recorded("catalog.below_cost_refused", BelowCostWithoutReason, subject="product")
@transaction.atomic
def change_price(*, actor: User, product: Product, price: object, cost_floor: object | None = None,
                 reason: str = "") -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    _require_operator(actor, product.origin)
    price_d = clean_decimal(price, field="price", max_value=MAX_PRICE)
    cost_d = product.cost_floor if cost_floor is None else clean_decimal(
        cost_floor, field="cost_floor", max_value=MAX_PRICE, allow_zero=True)
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    _check_price(price=price_d, cost_floor=cost_d, reason=reason)
    before = {"price": product.price, "cost_floor": product.cost_floor}
    product.price, product.cost_floor = price_d, cost_d
    product.below_cost_reason = reason if price_d < cost_d else ""
    product.save(update_fields=["price", "cost_floor", "below_cost_reason", "updated_at"])
    PriceChange.objects.create(product=product, price=price_d, actor=actor, reason=reason)
    after = {"price": price_d, "cost_floor": cost_d, "reason": reason}
    if before["price"] != price_d:
        record_action(actor=actor, action="catalog.price_changed", subject=product, before=before, after=after)
    if before["cost_floor"] != cost_d:
        record_action(actor=actor, action="catalog.cost_floor_changed", subject=product, before=before, after=after)
    if product.below_cost:
        _flag_below_cost(product, actor)
    return product


def _transition(product: Product, target: str, *, actor: User | None, reason: str = "") -> Product:
    LISTING.check(product.status, target)
    ListingTransition.objects.create(product=product, from_status=product.status, to_status=target,
                                     actor=actor, reason=reason[:300])
    record_action(actor=actor, action="catalog.listing_changed", subject=product,
                  before={"status": product.status}, after={"status": target, "reason": reason[:300]})
    product.status = target
    product.save(update_fields=["status", "updated_at"])
    return product


def _try_list(product: Product, *, actor: User | None, reason: str) -> bool:
    if not product.batches.exists() or uninspected_batches(product):
        return False
    _transition(product, S.LISTED, actor=actor, reason=reason)
    return True


@transaction.atomic
def submit_for_inspection(*, actor: User, product: Product) -> Product:
    """draft/delisted → awaiting inspection; listed at once if every batch has already passed."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    _require_operator(actor, product.origin)
    if not product.batches.exists():
        raise NoBatches()
    _transition(product, S.AWAITING_INSPECTION, actor=actor, reason="submitted")
    _try_list(product, actor=actor, reason="all batches passed inspection")
    return product


@transaction.atomic
def list_product(*, actor: User, product: Product) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    _require_operator(actor, product.origin)
    LISTING.check(product.status, S.LISTED)
    if not product.batches.exists():
        raise NoBatches()
    missing = uninspected_batches(product)
    if missing:
        raise NotInspected(details={"batches": [b.trace_code for b in missing]})
    return _transition(product, S.LISTED, actor=actor, reason="listed")


@transaction.atomic
def delist_product(*, actor: User | None, product: Product, reason: str) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    # Regulators may delist too; anyone else needs the operator's rights (and gets the operator's errors).
    if actor is not None and not policy.can(actor, "product.delist", product):
        _require_operator(actor, product.origin)
    reason = clean_text(reason, field="reason", max_length=300)
    return _transition(product, S.DELISTED, actor=actor, reason=reason)


@transaction.atomic
def add_batch(*, actor: User, product: Product, batch: HarvestBatch) -> Product:
    """A new batch must be inspected before it is sold: a listed product goes back to awaiting."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    _require_operator(actor, product.origin)
    if not product.producers.filter(pk=batch.plot.producer_id).exists():
        raise ValidationFailed("batch: it does not belong to the product's producers.", details={"field": "batch"})
    product.batches.add(batch)
    if product.status == S.LISTED:
        _transition(product, S.AWAITING_INSPECTION, actor=actor, reason=f"new batch {batch.trace_code}")
        _try_list(product, actor=actor, reason="all batches passed inspection")
    return product


def on_inspection_recorded(sender: object = None, *, batch: HarvestBatch, passed: bool, actor: User,
                           **kwargs: object) -> list[Product]:
    """Receiver of quality's `inspection_recorded`, inside its transaction: list or delist the batch's
    products (connected in CatalogConfig.ready)."""
    changed = []
    for product in Product.objects.select_for_update().filter(batches=batch).order_by("pk"):
        if passed and product.status == S.AWAITING_INSPECTION:
            if _try_list(product, actor=actor, reason=f"inspection passed ({batch.trace_code})"):
                changed.append(product)
        elif not passed and product.status == S.LISTED:
            # A product awaiting inspection simply stays there until a passing re-inspection.
            _transition(product, S.DELISTED, actor=actor, reason=f"inspection failed ({batch.trace_code})")
            changed.append(product)
    return changed
