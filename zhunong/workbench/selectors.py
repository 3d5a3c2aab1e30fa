"""Reads for the workbench: the host's console stream, a manager's producers, the county home's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q
from zhunong.catalog.models import ListingStatus, Product
from zhunong.fulfilment import selectors as fulfilment_selectors
from zhunong.fulfilment.models import ComplaintStatus, Shipment
from zhunong.live.models import Stream, StreamStatus
from zhunong.orders.models import OrderLine
from zhunong.orders.selectors import SOLD_STATUSES
from zhunong.producers.models import Producer


def host_console_stream(user: User) -> Stream | None:
    """The host's stream on air, else its next scheduled one (soonest first), else None."""
    mine = Stream.objects.filter(host__user=user)
    live = mine.filter(status=StreamStatus.LIVE).order_by("-started_at", "-id").first()
    if live is not None:
        return live
    return mine.filter(status=StreamStatus.SCHEDULED).order_by("planned_start", "id").first()


def managed_producers(user: User) -> list[Producer]:
    ids = policy.managed_producer_ids(user)
    return list(Producer.objects.filter(pk__in=ids).order_by("id")) if ids else []


@dataclass(frozen=True)
class CountyFigures:
    live_streams: int
    upcoming_streams: int
    producers: int
    listed_products: int
    open_complaints: int
    late_parcels: int
    sales_this_week: Decimal
    sales_last_week: Decimal
    units_this_week: int
    units_last_week: int


def _scoped(qs, user: User, field: str):  # noqa: ANN001, ANN202 - any queryset with a region path
    q = region_q(user, field)
    return qs if q is None else qs.filter(q)


def _week_sales(user: User, start, end) -> tuple[Decimal, int]:  # noqa: ANN001
    net = ExpressionWrapper(F("line_total") - F("discount_share") - F("refunded_amount"),
                            output_field=DecimalField(max_digits=14, decimal_places=2))
    lines = _scoped(OrderLine.objects.filter(order__status__in=SOLD_STATUSES, order__paid_at__gte=start,
                                             order__paid_at__lt=end), user, "producer__village")
    row = lines.order_by().aggregate(amount=Sum(net), units=Sum("quantity"))
    return Decimal(row["amount"] or 0).quantize(Decimal("0.01")), row["units"] or 0


def county_figures(user: User, *, now=None) -> CountyFigures:  # noqa: ANN001
    """The county home's counts, in the user's region (every region for the platform admin).

    Weeks are the last 7 days and the 7 before them, by payment time; sales are net of discounts and refunds.
    """
    now = now or timezone.now()
    streams = _scoped(Stream.objects.all(), user, "channel__county")
    this_week = _week_sales(user, now - timedelta(days=7), now)
    last_week = _week_sales(user, now - timedelta(days=14), now - timedelta(days=7))
    return CountyFigures(
        live_streams=streams.filter(status=StreamStatus.LIVE).count(),
        upcoming_streams=streams.filter(status=StreamStatus.SCHEDULED, planned_start__gte=now - timedelta(hours=1))
        .count(),
        producers=_scoped(Producer.objects.all(), user, "village").count(),
        listed_products=_scoped(Product.objects.filter(status=ListingStatus.LISTED), user, "origin").count(),
        open_complaints=fulfilment_selectors.complaints_for(user)
        .filter(status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]).count(),
        late_parcels=fulfilment_selectors.late_shipments(user).filter(status__in=Shipment.OPEN_STATUSES).count(),
        sales_this_week=this_week[0], sales_last_week=last_week[0],
        units_this_week=this_week[1], units_last_week=last_week[1],
    )


def upcoming_and_live(user: User, limit: int = 10) -> list[Stream]:
    streams = _scoped(Stream.objects.select_related("host__user", "channel"), user, "channel__county")
    # "live" sorts before "scheduled".
    return list(streams.filter(Q(status=StreamStatus.LIVE) | Q(status=StreamStatus.SCHEDULED))
                .order_by("status", "planned_start", "id")[:limit])
