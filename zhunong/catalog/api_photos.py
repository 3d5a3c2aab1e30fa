"""Product photos API: upload (multipart, checked by content), list with processing state, caption and
order (position 0 is the cover), removal. Writes go through catalog.services (decision 0025)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StrictInt

from zhunong.accounts.api import Id, text_field
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.images import ImageRefused
from zhunong.core.schemas import RequestSchema

from . import selectors, services
from .errors import ProductNotFound, TooManyImages
from .models import ImageStatus, ProductImage
from .templatetags.storefront import picture_sources

router = Router(tags=["product photos"])

PhotoStatus = Literal[tuple(ImageStatus.values)]  # type: ignore[valid-type]


class PhotoOut(Schema):
    id: int
    position: int = Field(description="0 is the cover.")
    caption: str
    status: PhotoStatus = Field(description="processing until the renditions are made; failed if they could not be.")
    url: str = Field(description="JPEG fallback (480 px wide) once ready; the master before.")
    srcset: str = Field(description="WebP renditions as an HTML srcset (240w, 480w, 960w; never wider than the "
                        "upload); empty while processing.")
    width: int | None
    height: int | None
    uploaded_at: dt.datetime | None


class PhotoPatch(RequestSchema):
    caption: str | None = text_field(None, max_length=100)
    position: StrictInt | None = Field(None, ge=0, le=1000, description="New place; 0 makes it the cover.")


def photo_out(image: ProductImage) -> dict:
    src = picture_sources(image) if image.is_ready else {"src": image.image.url, "srcset": ""}
    return {"id": image.pk, "position": image.position, "caption": image.caption, "status": image.status,
            "url": src["src"], "srcset": src["srcset"], "width": image.width, "height": image.height,
            "uploaded_at": image.uploaded_at}


def _product(request, product_id: int):  # noqa: ANN001, ANN202
    product = selectors.get_product_for_photos(product_id)
    services.check_can_manage_photos(actor=request.auth, product=product)
    return product


def _image(product, image_id: int) -> ProductImage:  # noqa: ANN001
    image = product.images.filter(pk=image_id).first()
    if image is None:
        raise ProductNotFound("No such photo of this product.", details={"image": image_id})
    return image


@router.get("/products/{product_id}/images", response=responses({200: list[PhotoOut]}, PermissionDenied,
                                                                  ProductNotFound), auth=auth_required)
def list_photos(request, product_id: Id):  # noqa: ANN001, ANN201
    """A product's photos in order, with their processing state (for those who manage them)."""
    product = _product(request, product_id)
    return [photo_out(i) for i in product.images.order_by("position", "pk")]


@router.post("/products/{product_id}/images", response=responses(
    {201: PhotoOut}, PermissionDenied, ProductNotFound, ImageRefused, ValidationFailed, TooManyImages,
    (400, "bad_request")),
    auth=auth_required)
def upload_photo(request, product_id: Id, file: UploadedFile = File(..., description=(  # noqa: ANN001, ANN201, B008
        "JPEG, PNG or WebP, judged by content; at most IMAGE_MAX_BYTES (10 MB) and IMAGE_MAX_PIXELS "
        "(40 million); at least 64 px a side.")),
                 caption: str = Form("", max_length=100), as_cover: bool = Form(False)):  # noqa: B008
    """Multipart upload. Refused files (422 `image_invalid`, `details.reason`) store nothing; an accepted
    one is `processing` until the worker has made its renditions."""
    product = _product(request, product_id)
    image = services.add_product_image(actor=request.auth, product=product, upload=file, caption=caption,
                                       as_cover=as_cover)
    image.refresh_from_db()
    return Status(201, photo_out(image))


@router.patch("/products/{product_id}/images/{image_id}", response=responses(
    {200: PhotoOut}, PermissionDenied, ProductNotFound, ValidationFailed), auth=auth_required)
def update_photo(request, product_id: Id, image_id: Id, payload: PhotoPatch):  # noqa: ANN001, ANN201
    product = _product(request, product_id)
    image = _image(product, image_id)
    if payload.caption is not None:
        image = services.update_product_image(actor=request.auth, image=image, caption=payload.caption)
    if payload.position is not None:
        image = services.move_product_image(actor=request.auth, image=image, to=payload.position)
    image.refresh_from_db()
    return photo_out(image)


@router.delete("/products/{product_id}/images/{image_id}", response=responses(
    {204: None}, PermissionDenied, ProductNotFound), auth=auth_required)
def delete_photo(request, product_id: Id, image_id: Id):  # noqa: ANN001, ANN201
    product = _product(request, product_id)
    services.delete_product_image(actor=request.auth, image=_image(product, image_id))
    return Status(204, None)
