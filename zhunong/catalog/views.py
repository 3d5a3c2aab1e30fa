"""Public storefront pages: home, product page, search. Server-rendered; they work without JavaScript."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhunong.core.text import has_control_chars
from zhunong.live.selectors import live_streams, upcoming_streams
from zhunong.quality.selectors import latest_inspection

from . import selectors
from .errors import ProductNotFound

PAGE_SIZE = 24
HOME_STREAMS = 12

# The orders app may add `orders/product_detail.html` extending the catalog page to fill its `buy`
# and `reviews` blocks; until then the catalog template renders them empty.
PRODUCT_TEMPLATES = ["orders/product_detail.html", "catalog/product_detail.html"]


def home(request: HttpRequest) -> HttpResponse:
    # Live now first, then what is coming up soonest (a scheduled stream past its planned end is not).
    streams = list(live_streams()[:HOME_STREAMS])
    streams += list(upcoming_streams()[:HOME_STREAMS - len(streams)]) if len(streams) < HOME_STREAMS else []
    return render(request, "catalog/home.html", {
        "streams": streams,
        "featured": list(selectors.featured_products()),
    })


def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    try:
        product = selectors.get_public_product(product_id)
    except ProductNotFound:
        raise Http404(_("没有这件商品。"))
    batches = [{"batch": batch, "inspection": latest_inspection(batch)} for batch in product.batches.all()]
    return render(request, PRODUCT_TEMPLATES, {
        "product": product,
        "producers": list(product.producers.all()),
        "images": list(product.images.all()),
        "batches": batches,
        "assisted": selectors.is_assisted(product),
        "can_buy": product.is_listed and product.stock > 0,
    })


def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    context: dict = {"q": q, "page": None, "error": ""}
    status = 200
    if len(q) > selectors.MAX_QUERY_LENGTH:
        context["error"] = _("搜索词太长了：最多 %(n)d 个字。") % {"n": selectors.MAX_QUERY_LENGTH}
        context["q"] = ""
        status = 400
    elif has_control_chars(q) or "\n" in q or "\r" in q:
        context["error"] = _("搜索词里有无法识别的控制字符，请重新输入。")
        context["q"] = ""
        status = 400
    elif q.strip():
        context["search_q"] = q
        results = selectors.search_ranked(q)
        context["page"] = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/search.html", context, status=status)
