"""The photo manager of one product (/p/<id>/photos/): upload, caption, order, cover, remove.

For the county operator and the managers of the product's producers (policy product.photos). Works
without JavaScript (forms post and redirect back); with htmx the list refreshes itself while a photo is
still being processed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhunong.accounts import policy
from zhunong.core import images as image_rules
from zhunong.core.errors import DomainError

from . import backoffice, selectors, services
from .errors import ProductNotFound
from .models import ImageStatus

# What a refused upload's `details.reason` means, for people.
REFUSAL_TEXT = {
    "empty": "请选择一张图片。",
    "too_large": "图片太大：最大 10 MB。",
    "not_an_image": "这个文件不是图片。",
    "format_not_allowed": "只接受 JPEG、PNG 或 WebP 图片。",
    "damaged": "图片已损坏或不完整，请重新导出后上传。",
    "too_many_pixels": "图片像素过多（超过 4000 万像素），请缩小后上传。",
    "too_small": "图片太小：每边至少 64 像素。",
}


def _product(request: HttpRequest, product_id: int):  # noqa: ANN202
    try:
        product = selectors.get_product_for_photos(product_id)
    except ProductNotFound:
        raise Http404(_("没有这件商品。"))
    if not policy.can(request.user, "product.photos", product):
        raise DjangoPermissionDenied(_("只有县运营人员和供货生产者的负责人可以管理商品图片。"))
    return product


def _message(exc: DomainError) -> str:
    reason = exc.details.get("reason") if isinstance(exc, image_rules.ImageRefused) else None
    if reason in REFUSAL_TEXT:
        return _(REFUSAL_TEXT[reason])
    return f"{exc.message} ({exc.code})"


def _photos_context(product: Any) -> dict:  # noqa: ANN401
    photos = list(product.images.order_by("position", "pk"))
    return {"product": product, "photos": photos,
            "processing": any(p.status == ImageStatus.PROCESSING for p in photos),
            "max_photos": services.MAX_IMAGES_PER_PRODUCT}


MY_PRODUCTS_LIMIT = 200


@login_required
def my_products(request: HttpRequest) -> HttpResponse:
    """The products whose photos the user may manage, with how many photos each has (/photos/)."""
    if not policy.may_hold(request.user, "product.photos"):
        raise DjangoPermissionDenied(_("只有县运营人员和生产者负责人可以管理商品图片。"))
    products = [p for p in backoffice.visible_products(request.user)[:MY_PRODUCTS_LIMIT]
                if policy.can(request.user, "product.photos", p)]
    return render(request, "catalog/my_photos.html", {"products": products})


@login_required
def photos(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    context = _photos_context(product)
    if request.headers.get("HX-Request") and request.GET.get("fragment") == "list":
        return render(request, "catalog/_photo_list.html", context)
    return render(request, "catalog/photos.html", context)


def _act(request: HttpRequest, product_id: int, action: Callable[[], Any], success: str) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, success)
    return redirect(reverse("storefront:photos", args=[product_id]))


@login_required
@require_POST
def upload(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    return _act(request, product.pk, lambda: services.add_product_image(
        actor=request.user, product=product, upload=request.FILES.get("image"),
        caption=request.POST.get("caption", "")[:101], as_cover=request.POST.get("as_cover") == "1"),
        _("图片已上传，正在生成各尺寸。"))


@login_required
@require_POST
def change(request: HttpRequest, product_id: int, image_id: int) -> HttpResponse:
    product = _product(request, product_id)
    image = product.images.filter(pk=image_id).first()
    if image is None:
        raise Http404(_("没有这张图片。"))
    what = request.POST.get("action", "")
    if what == "delete":
        return _act(request, product.pk, lambda: services.delete_product_image(actor=request.user, image=image),
                    _("图片已删除。"))
    if what in ("cover", "up", "down"):
        to = {"cover": 0, "up": max(0, image.position - 1), "down": image.position + 1}[what]
        return _act(request, product.pk, lambda: services.move_product_image(actor=request.user, image=image, to=to),
                    _("已设为封面。") if what == "cover" else _("顺序已调整。"))
    if what == "caption":
        return _act(request, product.pk, lambda: services.update_product_image(
            actor=request.user, image=image, caption=request.POST.get("caption", "")[:101]), _("说明已保存。"))
    messages.error(request, _("未知操作。"))
    return redirect(reverse("storefront:photos", args=[product.pk]))
