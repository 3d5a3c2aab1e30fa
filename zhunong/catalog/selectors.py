"""Reads for the storefront and the API: what is listed, search, and producers as buyers see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from zhunong.core.redaction import mask_name
from zhunong.producers.errors import ProducerNotFound
from zhunong.producers.models import HarvestBatch, Producer, Region
from zhunong.quality.models import Inspection
from zhunong.quality.selectors import latest_inspection
from zhunong.zh.text import (
    char_pattern,
    false_head_prefixes,
    has_cjk,
    one_character_query,
    search_tokens,
    to_simplified,
)

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
    matches when each query token is one of its tokens, or (for CJK) occurs inside one. A token of one
    CJK character does not match inside a false head (`zh.text.FALSE_HEADS`): 米 never finds 玉米 or
    厘米 (see search_ranked).
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
        if len(token) == 1 and has_cjk(token):
            cond &= _char_q("search_text", token)
        else:
            cond &= Q(search_text__contains=f" {token} ") | Q(search_text__contains=token)
    return qs.filter(cond)


def _char_q(field: str, char: str, *, word_end: bool = False) -> Q:
    """`char` in `field`, not as the end of a false head; with word_end, ending a token of search_text."""
    if not false_head_prefixes(char):  # a plain LIKE is enough, and cheaper than a regex
        return Q(**{f"{field}__contains": char + (" " if word_end else "")})
    return Q(**{f"{field}__regex": char_pattern(char, word_end=word_end)})


def search_ranked(q: str) -> QuerySet[Product]:
    """search_products for the search page, best matches first.

    Matching also looks at description, origin and producers. A query of several characters ranks
    products whose name contains it first.

    A one-character query (米, 茶, 紅 → 红) is read as a head noun: 米 means rice, so it wants products
    with a word that is 米 or ends in it (大米, 小米, 糯米, 富硒米), and never a false head such as
    玉米 (corn) or 厘米 (a koi's length), which do not match at all. The order is:
      0. such a word in the search text and the character (outside a false head) in the name: 敖汉小米;
      1. such a word in description, origin or producers only: kimchi "sold with the village's 大米";
      2. the character only inside other words, in the name: 红茶 for 红, 茶叶 for 茶;
      3. the character only inside other words elsewhere: wood-ear fungus from 金米村 for 米.
    Inside a rank, featured products first, then the oldest. Characters that are rarely a head (红)
    land in ranks 2-3, so they still find what contains them.
    """
    char = one_character_query((q or "")[:MAX_QUERY_LENGTH])
    if char is not None:
        head = _char_q("search_text", char, word_end=True)
        in_name = _char_q("name", char)
        rank = Case(When(head & in_name, then=Value(0)), When(head, then=Value(1)), When(in_name, then=Value(2)),
                    default=Value(3), output_field=IntegerField())
        return search_products(q).annotate(match_rank=rank).order_by("match_rank", "-featured", "id")
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


def get_product_for_photos(product_id: int) -> Product:
    """Any product (drafts too: photos come before listing), for those who manage its photos."""
    if not isinstance(product_id, int) or not 0 < product_id <= _MAX_DB_ID:
        raise ProductNotFound()
    product = Product.objects.select_related("origin").filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product


def featured_products(limit: int = 12) -> QuerySet[Product]:
    return listed_products().order_by("-featured", "-updated_at")[:limit]


def product_grid() -> QuerySet[Product]:
    """The home page's product grid and its further pages (/products/?page=N): featured first, then the
    newest. Ordered by what does not change while a buyer pages (not `updated_at`: a stock or price change
    between two pages moved a product, so pages repeated or skipped it; in the suite a page cycled)."""
    return listed_products().order_by("-featured", "-id")


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
                .prefetch_related("images",
                                  # One query for the producers and their villages' ancestors, not one per level.
                                  Prefetch("producers", queryset=Producer.objects.select_related(
                                      "village__parent__parent__parent__parent")),
                                  "batches__plot",
                                  # Newest first, so the page takes each batch's latest without a query per batch.
                                  Prefetch("batches__inspections", to_attr="inspections_newest_first",
                                           queryset=Inspection.objects.order_by("-sampled_on", "-id")))
                .get(pk=product_id))
    except Product.DoesNotExist:
        raise ProductNotFound()


def batches_with_latest_inspection(product: Product) -> list[dict]:
    """The product page's batches, each with its latest inspection (or None); one query with
    get_public_product's prefetch, a query per batch without it."""
    rows = []
    for batch in product.batches.all():
        if hasattr(batch, "inspections_newest_first"):
            inspection = batch.inspections_newest_first[0] if batch.inspections_newest_first else None
        else:
            inspection = latest_inspection(batch)
        rows.append({"batch": batch, "inspection": inspection})
    return rows


def uninspected_batches(product: Product) -> list[HarvestBatch]:
    """Batches the product sells from whose latest inspection is not a pass."""
    missing = []
    for batch in product.batches.all():
        inspection = latest_inspection(batch)
        if inspection is None or not inspection.passed:
            missing.append(batch)
    return missing


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


# --- Producers as buyers see them --------------------------------------------------------------
#
# What a buyer may see of a producer is decided here, not in templates: pages get a `PublicProducer`
# that simply has no full phone number, payee account or poverty-registration flag to leak. A
# household is public once it supplies a product buyers can see, which is why this lives in catalog.

@dataclass(frozen=True)
class PublicProducer:
    id: int
    name: str
    kind: str
    kind_label: str
    village: Region
    description: str
    contact_phone_masked: str
    payee_name_masked: str
    payee_account_masked: str
    member_count: int


def public_producers() -> QuerySet[Producer]:
    """Producers a buyer may look up.

    Cooperatives and enterprises are organisations and always public. A household becomes public only
    once it supplies a product buyers can see (listed, or delisted but still reachable by link), so
    registering a household does not publish it.
    """
    visible = Q(kind__in=[Producer.Kind.COOPERATIVE, Producer.Kind.ENTERPRISE]) | Q(
        products__status__in=[ListingStatus.LISTED, ListingStatus.DELISTED])
    ids = Producer.objects.filter(visible).values("pk")
    return (Producer.objects.filter(pk__in=ids).select_related("village")
            .annotate(member_count=Count("members", distinct=True)))


def to_public(producer: Producer) -> PublicProducer:
    return PublicProducer(
        id=producer.pk,
        name=producer.name,
        kind=producer.kind,
        kind_label=producer.get_kind_display(),
        village=producer.village,
        description=producer.description,
        contact_phone_masked=producer.contact_phone_masked,
        payee_name_masked=mask_name(producer.payee_name, keep_last=False),
        payee_account_masked=producer.payee_account_masked,
        member_count=getattr(producer, "member_count", 0) if producer.kind == Producer.Kind.COOPERATIVE else 0,
    )


def get_public_producer(producer_id: int) -> PublicProducer:
    if not isinstance(producer_id, int) or not 0 < producer_id <= _MAX_DB_ID:
        raise ProducerNotFound()
    try:
        producer = public_producers().select_related(
            "village__parent__parent__parent__parent").get(pk=producer_id)
    except Producer.DoesNotExist:
        raise ProducerNotFound()
    return to_public(producer)


def producers_in_region(path: str) -> list[PublicProducer]:
    qs = (public_producers().filter(village__path__startswith=path)
          .select_related("village__parent").order_by("village__path", "name", "id"))
    return [to_public(p) for p in qs]


# --- Products of a harvest batch, for quality's trace features (handed over in CatalogConfig.ready) ---


def gtin_of_batch(batch: HarvestBatch) -> str | None:
    product = batch.products.exclude(gtin__isnull=True).exclude(gtin="").order_by("id").first()
    return product.gtin if product else None


def products_of_batch(batch: HarvestBatch) -> QuerySet[Product]:
    return batch.products.order_by("id")


def listed_products_of_batch(batch: HarvestBatch) -> QuerySet[Product]:
    return batch.products.filter(status=ListingStatus.LISTED).order_by("id")


def batches_of_gtin(candidates: Iterable[str]) -> QuerySet[HarvestBatch] | None:
    product = Product.objects.filter(gtin__in=list(candidates)).first()
    return None if product is None else product.batches.all()
