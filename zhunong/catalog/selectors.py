"""Reads for the storefront and the API: what is listed, and search."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from zhunong.zh.text import search_tokens, to_simplified

from .errors import ProductNotFound
from .models import ListingStatus, Product

MAX_QUERY_LENGTH = 100


def listed_products() -> QuerySet[Product]:
    # The origin's ancestors are joined too: cards show the county of a village-level origin.
    return (Product.objects.filter(status=ListingStatus.LISTED)
            .select_related("origin__parent__parent__parent__parent")
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


def search_ranked(q: str) -> QuerySet[Product]:
    """search_products for the search page: products whose name contains the query come first.

    Matching also looks at description, origin and producers, so a one-character query such as 米
    finds 15-20厘米 koi too; ranking name hits first keeps the rice on top.
    """
    wanted = to_simplified((q or "").strip()[:MAX_QUERY_LENGTH])
    return (search_products(q)
            .annotate(name_hit=Case(When(name__contains=wanted, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
            .order_by("name_hit", "-featured", "id"))


def get_listed_product(product_id: int) -> Product:
    try:
        return listed_products().get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise ProductNotFound()


def featured_products(limit: int = 12) -> QuerySet[Product]:
    return listed_products().order_by("-featured", "-updated_at")[:limit]


# Statuses a buyer may open a product page in. Delisted pages stay up (with a notice, without a buy
# button) so replay links and shared links do not break; drafts and products awaiting inspection are
# not public.
PUBLIC_STATUSES = (ListingStatus.LISTED, ListingStatus.DELISTED)
_MAX_DB_ID = 2**63 - 1


def get_public_product(product_id: int) -> Product:
    """A listed or delisted product with what its page shows; ProductNotFound otherwise."""
    if not isinstance(product_id, int) or not 0 < product_id <= _MAX_DB_ID:
        raise ProductNotFound()
    try:
        return (Product.objects.filter(status__in=PUBLIC_STATUSES)
                .select_related("origin__parent__parent__parent__parent")
                .prefetch_related("images", "producers__village__parent__parent__parent__parent",
                                  "batches__plot")
                .get(pk=product_id))
    except Product.DoesNotExist:
        raise ProductNotFound()


def is_assisted(product: Product) -> bool:
    """帮扶产品: at least one supplier is a registered poverty household (a product-level fact only)."""
    return any(p.registered_poor for p in product.producers.all())


def products_in_region(path: str) -> QuerySet[Product]:
    """Listed products from a region subtree: by origin, or by a supplier's village."""
    ids = Product.objects.filter(
        Q(origin__path__startswith=path) | Q(producers__village__path__startswith=path),
        status=ListingStatus.LISTED,
    ).values("pk")
    return listed_products().filter(pk__in=ids).order_by("-featured", "name", "id")


def products_of_producer(producer_id: int) -> QuerySet[Product]:
    return listed_products().filter(producers__pk=producer_id).distinct().order_by("-featured", "name", "id")

