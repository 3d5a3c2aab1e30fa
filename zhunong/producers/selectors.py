"""Public reads of regions and producers, for the storefront.

What a buyer may see of a producer is decided here, not in templates: pages get a `PublicProducer`
that simply has no full phone number, payee account or poverty-registration flag to leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from zhunong.catalog.models import ListingStatus
from zhunong.core.errors import NotFound
from zhunong.core.text import has_control_chars

from .errors import UnknownRegion
from .models import Producer, Region

MAX_REGION_CODE_LENGTH = 20
_MAX_DB_ID = 2**63 - 1


class ProducerNotFound(NotFound):
    code = "producer_not_found"
    message = "No such producer."


def mask_name(name: str) -> str:
    """Keep only the first character of a payee name (鲁某 → 鲁*, 洋河…合作社 → 洋***).

    At most three stars, so a long name's length does not show either.
    """
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * min(len(name) - 1, 3)


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
        payee_name_masked=mask_name(producer.payee_name),
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


def get_region_by_code(code: str) -> Region:
    code = (code or "").strip()
    # PostgreSQL rejects NUL in text parameters; no valid code has control characters anyway.
    if not code or len(code) > MAX_REGION_CODE_LENGTH or has_control_chars(code):
        raise UnknownRegion()
    try:
        return Region.objects.select_related("parent__parent__parent__parent").get(code=code)
    except Region.DoesNotExist:
        raise UnknownRegion()


def child_regions(region: Region) -> QuerySet[Region]:
    return region.children.order_by("code")
