"""The image pipeline shared by product photos (catalog) and after-sales evidence (fulfilment).

An upload is judged by its content only: Pillow must recognise it as JPEG, PNG or WebP, verify it and
decode it in full; the file name, extension and declared Content-Type are never read. Size and pixel
limits come first (a decompression bomb is refused from its header, before any pixel is decoded). The
accepted picture is turned upright by its EXIF orientation, then re-encoded from its pixels alone, so
EXIF (GPS position, camera serial), XMP, ICC and text chunks are gone. Renditions are WebP at a few
widths, plus one JPEG for browsers without WebP (docs/decisions/0025-image-pipeline.md).

Pure functions over bytes: no models, no storage; the apps decide where the bytes go.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ValidationFailed

# Pillow format name -> MIME type of the formats accepted.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Widths of the WebP renditions (CSS pixels x device pixel ratio: a 390 px phone at 2x takes 960 for a
# full-width picture, 480 for a half-width card; 240 serves the small thumbnails).
WIDTHS = (240, 480, 960)
# The JPEG fallback's width (the <img src>): one file for the few browsers without WebP.
FALLBACK_WIDTH = 480
# The master kept for re-rendering: the longest side is brought down to this.
MASTER_MAX_SIDE = 1920
MIN_SIDE = 64
WEBP_QUALITY = 80
JPEG_QUALITY = 82


def max_bytes() -> int:
    return int(getattr(settings, "IMAGE_MAX_BYTES", 10 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "IMAGE_MAX_PIXELS", 40_000_000))


class ImageRefused(ValidationFailed):
    """422 image_invalid: not a JPEG/PNG/WebP picture, damaged, too large or too small.

    `details.reason` is one of: empty, too_large, not_an_image, format_not_allowed, damaged,
    too_many_pixels, too_small.
    """

    code = "image_invalid"
    message = "The file is not an accepted picture (JPEG, PNG or WebP)."


@dataclass(frozen=True)
class CheckedImage:
    """A picture that passed every check, upright and without metadata."""

    image: Image.Image
    source_format: str

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def _refuse(reason: str, message: str, *, field: str, **extra: object) -> ImageRefused:
    return ImageRefused(message, details={"field": field, "reason": reason, **extra})


def read_upload(upload: object, *, field: str = "image") -> bytes:
    """The upload's bytes, at most max_bytes() (one more is read to tell a larger file)."""
    limit = max_bytes()
    if upload is None:
        raise _refuse("empty", "No file was sent.", field=field)
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    else:
        size = getattr(upload, "size", None)
        if isinstance(size, int) and size > limit:
            raise _refuse("too_large", f"The file is larger than {limit} bytes.", field=field, max_bytes=limit)
        if hasattr(upload, "seek"):
            upload.seek(0)
        data = upload.read(limit + 1)
    if not data:
        raise _refuse("empty", "The file is empty.", field=field)
    if len(data) > limit:
        raise _refuse("too_large", f"The file is larger than {limit} bytes.", field=field, max_bytes=limit)
    return data


def check(data: bytes, *, field: str = "image") -> CheckedImage:
    """Open, verify and decode `data`; refuse anything but a sound JPEG/PNG/WebP within the limits.

    Returns the picture turned upright by its EXIF orientation, in RGB or RGBA, with no metadata.
    """
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that; both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in ACCEPTED_FORMATS:
                raise _refuse("format_not_allowed", "Only JPEG, PNG and WebP pictures are accepted.",
                              field=field, found=str(fmt or "unknown"))
            width, height = probe.size
            if width * height > limit:
                raise _refuse("too_many_pixels", f"The picture has more than {limit} pixels.", field=field,
                              max_pixels=limit)
            probe.verify()
            # verify() leaves the image unusable: open again and decode every pixel.
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageRefused:
        raise
    except UnidentifiedImageError:
        raise _refuse("not_an_image", "The file is not a picture.", field=field) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("too_many_pixels", f"The picture has more than {limit} pixels.", field=field,
                      max_pixels=limit) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise _refuse("damaged", "The picture is damaged or cut short.", field=field) from None
    if min(width, height) < MIN_SIDE:
        raise _refuse("too_small", f"The picture must be at least {MIN_SIDE} pixels on each side.", field=field,
                      min_side=MIN_SIDE)
    return CheckedImage(image=_clean(image), source_format=fmt)


def _clean(image: Image.Image) -> Image.Image:
    """Upright (EXIF orientation applied), RGB/RGBA, first frame only, and a fresh image without metadata."""
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, TypeError, SyntaxError):  # a broken EXIF block: keep the pixels as they are
        upright = image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    mode = "RGBA" if has_alpha else "RGB"
    converted = upright.convert(mode)
    # A new image from the pixels alone: no .info (EXIF, XMP, ICC, PNG text) travels with it.
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def _resized(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def encode_webp(image: Image.Image, *, quality: int = WEBP_QUALITY) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


def encode_jpeg(image: Image.Image, *, quality: int = JPEG_QUALITY) -> bytes:
    if image.mode != "RGB":
        # JPEG has no alpha: flatten on white, as a page background would show it.
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = flat
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def master(checked: CheckedImage) -> bytes:
    """The kept original: WebP, longest side at most MASTER_MAX_SIDE, no metadata."""
    image = checked.image.copy()
    image.thumbnail((MASTER_MAX_SIDE, MASTER_MAX_SIDE), Image.Resampling.LANCZOS)
    return encode_webp(image, quality=90)


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # "webp" or "jpeg"
    data: bytes


def renditions(image: Image.Image, *, widths: tuple[int, ...] = WIDTHS) -> list[Rendition]:
    """WebP at each width narrower than the picture plus the picture's own width (up to the largest width;
    never enlarged), and the JPEG fallback."""
    usable = sorted({w for w in widths if w < image.width} | {min(image.width, max(widths))})
    out = []
    for width in usable:
        small = _resized(image, width)
        out.append(Rendition(small.width, small.height, "webp", encode_webp(small)))
    fallback = _resized(image, FALLBACK_WIDTH)
    out.append(Rendition(fallback.width, fallback.height, "jpeg", encode_jpeg(fallback)))
    return out


def open_master(data: bytes) -> Image.Image:
    """Decode a master written by `master` (trusted: the platform wrote it)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
