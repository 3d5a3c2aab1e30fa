"""Public storefront pages: home, product page, search, and the producer/co-op and region pages (they list
products, so they are catalog's). Server-rendered; they work without JavaScript."""

from __future__ import annotations

from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhunong.core.text import has_control_chars
from zhunong.producers import selectors as producer_selectors
from zhunong.producers.errors import ProducerNotFound, UnknownRegion

from . import hooks, selectors
from .errors import ProductNotFound

PAGE_SIZE = 24
HOME_STREAMS = 12
# Products on the home page and on each further page of the grid (更多 → /products/?page=2, ...).
GRID_PAGE = 12
REGION_PRODUCT_LIMIT = 60

# The orders app may add `orders/product_detail.html` extending the catalog page to fill its `buy`
# and `reviews` blocks; until then the catalog template renders them empty.
PRODUCT_TEMPLATES = ["orders/product_detail.html", "catalog/product_detail.html"]


def home(request: HttpRequest) -> HttpResponse:
    # Live now first, then what is coming up soonest (a scheduled stream past its planned end is not);
    # the streams come from live through catalog.hooks.
    # One product more than shown tells whether there is a next page (no COUNT over the catalogue). The
    # page is the same for every viewer (the front caches it: decision 0022), so 更多 is a plain link to
    # page 2 that htmx follows in place.
    grid = list(selectors.product_grid()[:GRID_PAGE + 1])
    return render(request, "catalog/home.html", {
        "streams": hooks.home_streams(HOME_STREAMS),
        "featured": grid[:GRID_PAGE],
        "next_page": 2 if len(grid) > GRID_PAGE else None,
    })


def products(request: HttpRequest) -> HttpResponse:
    """Further pages of the home page's product grid. A whole page (the 更多 link without JavaScript);
    with htmx the home page takes the cards and the next 更多 link out of it (hx-select), so both get the
    same response. A page past the end is a 404, so htmx never appends a page twice."""
    paginator = Paginator(selectors.product_grid(), GRID_PAGE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404(_("没有这一页。"))
    return render(request, "catalog/home_products.html", {
        "page": page, "next_page": page.next_page_number() if page.has_next() else None,
    })


def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    try:
        product = selectors.get_public_product(product_id)
    except ProductNotFound:
        raise Http404(_("没有这件商品。"))
    batches = selectors.batches_with_latest_inspection(product)
    return render(request, PRODUCT_TEMPLATES, {
        "product": product,
        "producers": list(product.producers.all()),
        "images": [i for i in product.images.all() if i.is_ready and i.image],
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


def producer_detail(request: HttpRequest, producer_id: int) -> HttpResponse:
    try:
        producer = selectors.get_public_producer(producer_id)
    except ProducerNotFound:
        raise Http404(_("没有这个生产者。"))
    return render(request, "catalog/producer_detail.html", {
        "producer": producer,
        "products": list(selectors.products_of_producer(producer.id)),
    })


def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        region = producer_selectors.get_region_by_code(code)
    except UnknownRegion:
        raise Http404(_("没有这个地区。"))
    products = selectors.products_in_region(region.path)
    return render(request, "catalog/region_detail.html", {
        "region": region,
        "children": list(producer_selectors.child_regions(region)),
        "products": list(products[:REGION_PRODUCT_LIMIT]),
        "product_count": products.count(),
        "producers": selectors.producers_in_region(region.path),
    })
