"""Public producer/co-op pages and region pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhunong.catalog.selectors import products_in_region, products_of_producer

from . import selectors
from .errors import UnknownRegion

REGION_PRODUCT_LIMIT = 60


def producer_detail(request: HttpRequest, producer_id: int) -> HttpResponse:
    try:
        producer = selectors.get_public_producer(producer_id)
    except selectors.ProducerNotFound:
        raise Http404(_("没有这个生产者。"))
    return render(request, "producers/producer_detail.html", {
        "producer": producer,
        "products": list(products_of_producer(producer.id)),
    })


def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        region = selectors.get_region_by_code(code)
    except UnknownRegion:
        raise Http404(_("没有这个地区。"))
    products = products_in_region(region.path)
    return render(request, "producers/region_detail.html", {
        "region": region,
        "children": list(selectors.child_regions(region)),
        "products": list(products[:REGION_PRODUCT_LIMIT]),
        "product_count": products.count(),
        "producers": selectors.producers_in_region(region.path),
    })
