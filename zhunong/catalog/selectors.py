"""Reads for the storefront and the API: what is listed, and search."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from zhunong.zh.text import search_tokens

from .errors import ProductNotFound
from .models import ListingStatus, Product

MAX_QUERY_LENGTH = 100


def listed_products() -> QuerySet[Product]:
    return (Product.objects.filter(status=ListingStatus.LISTED)
            .select_related("origin")
            .prefetch_related(Prefetch("producers"), "images"))


def search_products(q: str, *, base: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Listed products matching every token of the query, simplified or traditional (藍莓 → 蓝莓).

    The query goes through the same OpenCC + jieba pipeline as the stored `search_text`; a product
    matches when each query token is one of its tokens, or (for CJK) occurs inside one.
    """
    qs = listed_products() if base is None else base
    tokens = search_tokens((q or "")[:MAX_QUERY_LENGTH])
    if not tokens:
        return qs.none() if (q or "").strip() else qs
    # cut_for_search yields sub-words too (牦牛肉干 → 牦牛, 牛肉, 肉干, 牦牛肉干); requiring the
    # longest tokens is enough, since their parts are then present as well.
    longest = [t for t in tokens if not any(t != o and t in o for o in tokens)]
    cond = Q()
    for token in longest:
        cond &= Q(search_text__contains=f" {token} ") | Q(search_text__contains=token)
    return qs.filter(cond)


def get_listed_product(product_id: int) -> Product:
    try:
        return listed_products().get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise ProductNotFound()


def featured_products(limit: int = 12) -> QuerySet[Product]:
    return listed_products().order_by("-featured", "-updated_at")[:limit]
