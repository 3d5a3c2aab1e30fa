"""Small display helpers shared by the storefront templates (catalog, producers, accounts)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.core.files.storage import default_storage
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from zhunong.producers.models import Region

register = template.Library()


@register.filter
def yuan(amount: Decimal | None) -> str:
    """¥39.90 — always two decimals, whatever the locale."""
    if amount is None:
        return ""
    return f"¥{Decimal(amount):,.2f}"


@register.filter
def local_place(region: Region | None) -> str:
    """The part of a place below the county (洋河镇山里村): the county is already shown as the origin."""
    if region is None:
        return ""
    chain = region.ancestors(include_self=True)
    below_county = [r.name for r in chain if Region.LEVEL_ORDER.index(r.level) > Region.LEVEL_ORDER.index("county")]
    return "".join(below_county) or region.name


@register.filter
def short_origin(region: Region | None) -> str:
    """County plus the place itself (胶州市山里村): enough to recognise an origin on a product card."""
    if region is None:
        return ""
    county = region.ancestor_at("county")
    if county is None or county.pk == region.pk:
        return region.name
    return f"{county.name}{region.name}"


@register.filter
def region_trail(region: Region | None) -> list[Region]:
    """Province → … → region, for breadcrumbs."""
    return region.ancestors(include_self=True) if region is not None else []


# --- product photos (core/images.py renditions; docs/decisions/0025-image-pipeline.md) ---------------

# `sizes` of the usual places: a card in the storefront grid (two columns on a phone), the product page's
# main picture (the full width on a phone, about half of a desktop page), the small thumbnails.
SIZES = {
    "card": "(max-width: 600px) 50vw, 240px",
    "page": "(max-width: 700px) 100vw, 480px",
    "thumb": "96px",
}


def _shown(images: object) -> list:
    return [i for i in images if i.status == "ready" and i.image]  # type: ignore[attr-defined]


@register.filter
def cover(product: object) -> object:
    """The first photo ready to show (uses the prefetched `images` when there are)."""
    shown = _shown(product.images.all())  # type: ignore[attr-defined]
    return shown[0] if shown else None


@register.filter
def shown_images(product: object) -> list:
    return _shown(product.images.all())  # type: ignore[attr-defined]


def picture_sources(image: object) -> dict:
    """src (the JPEG fallback), srcset (WebP widths), width and height of a photo; a photo from before
    the pipeline has only its file."""
    r = getattr(image, "renditions", None) or {}
    webp = r.get("webp") or []
    jpeg = r.get("jpeg")
    if not webp or not jpeg:
        return {"src": image.image.url, "srcset": "", "width": image.width, "height": image.height}  # type: ignore[attr-defined]
    return {
        "src": default_storage.url(jpeg["path"]),
        "srcset": ", ".join(f"{default_storage.url(e['path'])} {e['w']}w" for e in webp),
        "width": jpeg["w"], "height": jpeg["h"],
    }


@register.simple_tag
def product_picture(image: object, *, alt: str = "", sizes: str = "card", lazy: bool = True,
                    css: str = "") -> str:
    """<picture> with the WebP renditions as `srcset` and `sizes`, and the JPEG as the <img>'s src."""
    if image is None:
        return ""
    src = picture_sources(image)
    size_attr = SIZES.get(sizes, sizes)
    dims = format_html(' width="{}" height="{}"', src["width"], src["height"]) if src["width"] else ""
    img = format_html('<img src="{}" alt="{}"{}{}{} decoding="async">', src["src"], alt,
                      format_html(' class="{}"', css) if css else "", dims,
                      mark_safe(' loading="lazy"') if lazy else "")  # noqa: S308 - a constant
    if not src["srcset"]:
        return img
    return format_html('<picture><source type="image/webp" srcset="{}" sizes="{}">{}</picture>',
                       src["srcset"], size_attr, img)
