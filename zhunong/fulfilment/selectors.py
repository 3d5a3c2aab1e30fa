"""Reads for fulfilment and after-sales, and which rows each user sees (who may act: accounts.policy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.accounts.selectors import county_staff_q, is_platform_admin
from zhunong.catalog.errors import ProductNotFound
from zhunong.catalog.models import Product
from zhunong.live.errors import StreamNotFound
from zhunong.live.models import Stream
from zhunong.orders.errors import OrderNotFound
from zhunong.orders.models import Order, OrderLine, OrderStatus
from zhunong.producers.models import HarvestBatch, Producer

from .errors import (
    AfterSalesNotFound,
    ClaimNotFound,
    ComplaintNotFound,
    LineNotFound,
    PhotoNotFound,
    PledgeNotFound,
    ShipmentNotFound,
)
from .models import (
    AfterSalesPhoto,
    AfterSalesRequest,
    ClaimStatus,
    Complaint,
    ComplaintStatus,
    Pledge,
    PledgeClaim,
    Review,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from .rules import auto_complete_after, auto_confirm_after

# ---------------------------------------------------------------- back-office scoping


def _managed_producer_q(user: User, field: str) -> Q:
    """A producer the user manages, directly or as manager of a co-op the producer is a member of
    (a co-op often packs and posts for its member households)."""
    return Q(**{f"{field}__managers": user}) | Q(**{f"{field}__cooperatives__managers": user})


def scope_by_producer(qs: QuerySet, user: User, *, producer_field: str = "producer",
                      region_field: str = "producer__village") -> QuerySet:
    """Back-office scoping: platform admin everything; county staff their region; producer managers the
    producers they (or their co-op) manage; anyone else nothing."""
    if not user.is_authenticated:
        return qs.none()
    if is_platform_admin(user):
        return qs
    cond = county_staff_q(user, region_field)
    if user.has_role(roles.PRODUCER_MANAGER):
        cond |= _managed_producer_q(user, producer_field)
    return qs.filter(cond).distinct()


# ---------------------------------------------------------------- shipments


def shipments_for(user: User) -> QuerySet[Shipment]:
    return scope_by_producer(Shipment.objects.all(), user).select_related("order", "producer")


def packing_list(user: User, *, include_done: bool = False, order_number: str = "") -> QuerySet[Shipment]:
    """The user's shipments to pack and post, most urgent first, with their lines; `order_number`: only the
    orders whose number contains it (a buyer calls about ZN…: the producer finds it among many pages)."""
    qs = shipments_for(user)
    if not include_done:
        qs = qs.filter(status__in=Shipment.OPEN_STATUSES)
    if order_number:
        qs = qs.filter(order__number__icontains=order_number)
    return qs.prefetch_related("items__line__product").order_by("deadline", "id")


def get_shipment(shipment_id: object) -> Shipment:
    try:
        return Shipment.objects.select_related("order", "producer__village").get(pk=int(shipment_id))
    except (Shipment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ShipmentNotFound()


def order_shipments(order) -> QuerySet[Shipment]:  # noqa: ANN001
    return order.shipments.select_related("producer").prefetch_related("items__line__product").order_by("id")


def late_shipments(user: User) -> QuerySet[Shipment]:
    return shipments_for(user).filter(late=True).order_by("-deadline")


def overdue_unflagged(now=None) -> QuerySet[Shipment]:  # noqa: ANN001
    """Open shipments past their deadline that have not been flagged yet."""
    now = now or timezone.now()
    return Shipment.objects.filter(status__in=Shipment.OPEN_STATUSES, deadline__lt=now, late=False)


def orders_to_route() -> QuerySet[Order]:
    """Paid orders with a line that is in no parcel yet."""
    return Order.objects.filter(status=OrderStatus.PAID, lines__shipment_item__isnull=True).distinct()


def orphaned_shipments() -> QuerySet[Shipment]:
    """Unsent parcels with nothing left to send: the order was cancelled or refunded, or every line in
    the parcel has been refunded in full."""
    still_paid = ShipmentItem.objects.filter(
        shipment=OuterRef("pk"), line__refunded_amount__lt=F("line__line_total") - F("line__discount_share"))
    return Shipment.objects.filter(status__in=Shipment.OPEN_STATUSES).filter(
        Q(order__status__in=(OrderStatus.CANCELLED, OrderStatus.REFUNDED)) | ~Exists(still_paid))


def due_for_auto_confirm(now: dt.datetime | None = None) -> QuerySet[Shipment]:
    now = now or timezone.now()
    return Shipment.objects.filter(status=ShipmentStatus.SHIPPED, shipped_at__lte=now - auto_confirm_after())


def due_for_completion(now: dt.datetime | None = None) -> QuerySet[Order]:
    """Delivered orders whose last parcel arrived more than N days ago, with no open after-sales request."""
    now = now or timezone.now()
    return (Order.objects.filter(status=OrderStatus.DELIVERED)
            .annotate(last_delivered=Max("shipments__delivered_at"))
            .filter(last_delivered__lte=now - auto_complete_after())
            .exclude(after_sales__status__in=AfterSalesRequest.OPEN_STATUSES))


def orders_out_of_step() -> QuerySet[Order]:
    """Paid or shipped orders whose parcels are further along than the order itself — e.g. the last
    parcel left or arrived while a refund request held the order in refund_requested."""
    live = Shipment.objects.filter(order=OuterRef("pk")).exclude(status=ShipmentStatus.CANCELLED)
    paid_behind = Q(status=OrderStatus.PAID) & ~Exists(
        live.exclude(status__in=(ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)))
    shipped_behind = Q(status=OrderStatus.SHIPPED) & ~Exists(live.exclude(status=ShipmentStatus.DELIVERED))
    return Order.objects.filter(Exists(live)).filter(paid_behind | shipped_behind)


def line_shipment(line: OrderLine) -> Shipment | None:
    """The parcel an order line travels in, if it has been routed."""
    item = ShipmentItem.objects.select_related("shipment").filter(line=line).first()
    return item.shipment if item else None


def batches_in(shipment: Shipment) -> QuerySet[HarvestBatch]:
    """The harvest batches a parcel's goods come from: its products' batches grown by this producer."""
    products = [item.line.product_id for item in shipment.items.select_related("line")]
    return HarvestBatch.objects.filter(products__in=products, plot__producer=shipment.producer).distinct()


def product_batches(product_id: int, producer: Producer) -> QuerySet[HarvestBatch]:
    """The batches of one product grown by this producer (what the packing slip lists per line)."""
    return HarvestBatch.objects.filter(products=product_id, plot__producer=producer)


def shipment_with_items(shipment: Shipment) -> Shipment:
    """The parcel read afresh with its order, producer and lines, as the API returns it."""
    return (Shipment.objects.select_related("order", "producer")
            .prefetch_related("items__line__product").get(pk=shipment.pk))


@dataclass(frozen=True)
class ProducerRecord:
    """A producer's after-sales record, as the county operator sees it."""

    producer_id: int
    producer_name: str
    shipments: int
    late: int
    complaints: int
    after_sales: int
    reviews: int
    rating: Decimal | None

    @property
    def late_rate(self) -> Decimal | None:
        if not self.shipments:
            return None
        return (Decimal(self.late) / Decimal(self.shipments) * 100).quantize(Decimal("0.1"))


def producer_records(user: User) -> list[ProducerRecord]:
    """Per producer the user may see: parcels, late parcels, complaints, after-sales requests, rating.

    Each figure is its own correlated subquery, so joins never multiply one another's rows."""
    def count_of(model, **filters) -> Subquery:  # noqa: ANN001
        return Subquery(model.objects.filter(producer=OuterRef("pk"), **filters).order_by()
                        .values("producer").annotate(n=Count("id")).values("n")[:1])

    rating = Subquery(Review.objects.filter(producer=OuterRef("pk")).order_by().values("producer")
                      .annotate(a=Avg("rating")).values("a")[:1])
    rows = _producers_for(user).annotate(
        n_shipments=Coalesce(Subquery(Shipment.objects.filter(producer=OuterRef("pk"))
                                      .exclude(status=ShipmentStatus.CANCELLED).order_by().values("producer")
                                      .annotate(n=Count("id")).values("n")[:1]), 0),
        n_late=Coalesce(count_of(Shipment, late=True), 0),
        n_complaints=Coalesce(count_of(Complaint), 0),
        n_after_sales=Coalesce(count_of(AfterSalesRequest), 0),
        n_reviews=Coalesce(count_of(Review), 0),
        avg_rating=rating,
    ).order_by("-n_late", "-n_complaints", "id")
    return [ProducerRecord(producer_id=p.pk, producer_name=p.name, shipments=p.n_shipments, late=p.n_late,
                           complaints=p.n_complaints, after_sales=p.n_after_sales, reviews=p.n_reviews,
                           rating=None if p.avg_rating is None
                           else Decimal(str(p.avg_rating)).quantize(Decimal("0.1")))
            for p in rows]


def _producers_for(user: User) -> QuerySet:
    if not user.is_authenticated:
        return Producer.objects.none()
    if is_platform_admin(user):
        return Producer.objects.all()
    cond = county_staff_q(user, "village")
    if user.has_role(roles.PRODUCER_MANAGER):
        cond |= Q(managers=user) | Q(cooperatives__managers=user)
    return Producer.objects.filter(cond).distinct()


# ---------------------------------------------------------------- orders, lines, streams, products


def get_order(order_id: object) -> Order:
    try:
        return Order.objects.select_related("stream").get(pk=int(order_id))
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise OrderNotFound()


def get_line(line_id: object) -> OrderLine:
    try:
        return OrderLine.objects.select_related("order").get(pk=int(line_id))
    except (OrderLine.DoesNotExist, ValueError, TypeError, OverflowError):
        raise LineNotFound()


def get_stream(stream_id: object) -> Stream:
    try:
        return Stream.objects.select_related("host", "channel__county").get(pk=int(stream_id))
    except (Stream.DoesNotExist, ValueError, TypeError, OverflowError):
        raise StreamNotFound()


def get_product(product_id: object) -> Product:
    """Any product, listed or not (reviews and pledges name products that may have been delisted since)."""
    try:
        return Product.objects.get(pk=int(product_id))
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ProductNotFound()


# ---------------------------------------------------------------- after-sales, complaints


def after_sales_for(user: User) -> QuerySet[AfterSalesRequest]:
    return scope_by_producer(AfterSalesRequest.objects.all(), user).select_related(
        "order", "line__product", "producer", "buyer")


def open_after_sales_for(user: User) -> QuerySet[AfterSalesRequest]:
    return after_sales_for(user).filter(status__in=AfterSalesRequest.OPEN_STATUSES).prefetch_related("photos")


def buyer_after_sales(user: User) -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.filter(buyer=user).select_related("order", "line__product")


def own_and_handled_after_sales(user: User) -> QuerySet[AfterSalesRequest]:
    """The user's own requests and those they decide, newest first."""
    ids = set(buyer_after_sales(user).values_list("pk", flat=True))
    ids |= set(after_sales_for(user).values_list("pk", flat=True))
    return AfterSalesRequest.objects.filter(pk__in=ids).select_related("line__product").prefetch_related(
        "photos").order_by("-created_at", "-id")


def order_after_sales(order: Order) -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.filter(order=order).prefetch_related("photos").order_by("created_at")


def may_see_after_sales(user: User, request: AfterSalesRequest) -> bool:
    """The buyer who asked, and whoever may decide it (the same scope as the decision list)."""
    if not user.is_authenticated:
        return False
    return request.buyer_id == user.pk or after_sales_for(user).filter(pk=request.pk).exists()


def get_after_sales_photo(photo_id: object) -> AfterSalesPhoto:
    try:
        return AfterSalesPhoto.objects.select_related("request").get(pk=int(photo_id))
    except (AfterSalesPhoto.DoesNotExist, ValueError, TypeError, OverflowError):
        raise PhotoNotFound()


def complaints_for(user: User) -> QuerySet[Complaint]:
    """County staff see complaints filed to their county; the platform admin all of them."""
    if not user.is_authenticated:
        return Complaint.objects.none()
    qs = Complaint.objects.select_related("order", "buyer", "producer", "region")
    if is_platform_admin(user):
        return qs
    return qs.filter(county_staff_q(user, "region"))


def own_and_handled_complaints(user: User) -> QuerySet[Complaint]:
    """The user's own complaints and those of the county they staff."""
    return complaints_for(user) | Complaint.objects.filter(buyer=user)


def open_complaints_for(user: User) -> QuerySet[Complaint]:
    return complaints_for(user).filter(status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS])


def get_complaint(complaint_id: object) -> Complaint:
    try:
        return Complaint.objects.select_related("region", "order").get(pk=int(complaint_id))
    except (Complaint.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ComplaintNotFound()


def get_after_sales(request_id: object) -> AfterSalesRequest:
    try:
        return AfterSalesRequest.objects.select_related("order", "line", "producer__village").get(
            pk=int(request_id))
    except (AfterSalesRequest.DoesNotExist, ValueError, TypeError, OverflowError):
        raise AfterSalesNotFound()


# ---------------------------------------------------------------- reviews


def reviews_for(user: User) -> QuerySet[Review]:
    """Back-office scoping of reviews, as for parcels."""
    return scope_by_producer(Review.objects.select_related("product", "producer"), user)


def product_reviews(product, *, limit: int | None = 50) -> QuerySet[Review]:  # noqa: ANN001
    """Visible reviews of a product, newest first — what the product page shows."""
    qs = Review.objects.filter(product=product, visible=True).select_related("buyer").order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: Decimal | None
    histogram: dict[int, int]


def product_rating(product) -> RatingSummary:  # noqa: ANN001
    """Every review counts toward the rating, hidden ones too (hiding moderates text, not scores)."""
    rows = Review.objects.filter(product=product).values("rating").annotate(n=Count("id"))
    histogram = {i: 0 for i in range(5, 0, -1)}
    for row in rows:
        histogram[row["rating"]] = row["n"]
    count = sum(histogram.values())
    average = None
    if count:
        average = (Decimal(sum(k * v for k, v in histogram.items())) / count).quantize(Decimal("0.1"))
    return RatingSummary(count=count, average=average, histogram=histogram)


def reviewable_lines(order):  # noqa: ANN001, ANN201
    """Lines of the order that are delivered and not yet reviewed."""
    return [item.line for shipment in order_shipments(order) if shipment.status == ShipmentStatus.DELIVERED
            for item in shipment.items.all() if not hasattr(item.line, "review")]


# ---------------------------------------------------------------- pledges


def stream_pledges(stream) -> QuerySet[Pledge]:  # noqa: ANN001
    return Pledge.objects.filter(stream=stream).select_related("host__user", "product").order_by("id")


def get_pledge(pledge_id: object) -> Pledge:
    try:
        return Pledge.objects.select_related("stream__channel__county", "host__user").get(pk=int(pledge_id))
    except (Pledge.DoesNotExist, ValueError, TypeError, OverflowError):
        raise PledgeNotFound()


def get_claim(claim_id: object) -> PledgeClaim:
    try:
        return PledgeClaim.objects.select_related("pledge__stream__channel__county", "pledge__host__user",
                                                  "order").get(pk=int(claim_id))
    except (PledgeClaim.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ClaimNotFound()


def claims_for(user: User) -> QuerySet[PledgeClaim]:
    """County staff see claims against pledges in their county's streams; buyers their own claims."""
    if not user.is_authenticated:
        return PledgeClaim.objects.none()
    qs = PledgeClaim.objects.select_related("pledge__stream", "order", "claimant")
    if is_platform_admin(user):
        return qs
    return qs.filter(Q(claimant=user) | county_staff_q(user, "pledge__stream__channel__county"))


def pledges_for(user: User) -> QuerySet[Pledge]:
    if not user.is_authenticated:
        return Pledge.objects.none()
    qs = Pledge.objects.select_related("stream", "host__user")
    if is_platform_admin(user):
        return qs
    return qs.filter(Q(host__user=user) | county_staff_q(user, "stream__channel__county"))


def compensated_total(pledge: Pledge) -> Decimal:
    total = pledge.claims.filter(compensated_amount__isnull=False).aggregate(s=Sum("compensated_amount"))["s"]
    return total or Decimal("0")


def streams_with_open_cases(stream_ids: list[int]) -> set[int]:
    """Which of these streams an open case is about (live.hooks: retention keeps their records): a
    complaint or after-sales request not closed, or a pledge claim not decided, about an order placed in
    the stream, or a claim on a pledge made in it."""
    held: set[int] = set()
    held.update(Complaint.objects.filter(order__stream_id__in=stream_ids)
                .exclude(status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.DISMISSED])
                .values_list("order__stream_id", flat=True))
    held.update(AfterSalesRequest.objects.filter(order__stream_id__in=stream_ids,
                                                 status__in=AfterSalesRequest.OPEN_STATUSES)
                .values_list("order__stream_id", flat=True))
    open_claims = PledgeClaim.objects.filter(status__in=[ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW,
                                                         ClaimStatus.UPHELD])
    held.update(open_claims.filter(order__stream_id__in=stream_ids).values_list("order__stream_id", flat=True))
    held.update(open_claims.filter(pledge__stream_id__in=stream_ids).values_list("pledge__stream_id", flat=True))
    held.discard(None)
    return held
