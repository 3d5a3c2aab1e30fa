"""Reads behind the dashboards: stream, host, product, producer / co-op, region and the county home.

Money and units come from the SalesDay rollup (rollups.py), never from scanning order lines, except the
per-minute sales curve of one stream (that stream's orders only, through the index on Order.stream).
Every function takes the range of days (both ends included) and returns plain dicts and lists the views
turn into charts and tables (core.exports.Table)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, QuerySet, Sum
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q
from zhunong.catalog.models import ListingStatus, Product
from zhunong.fulfilment.models import Complaint, Review, Shipment
from zhunong.live.models import Host, Pin, Stream, StreamMinute, ViewerSession
from zhunong.orders.models import FlashSale, OrderLine
from zhunong.producers.models import Producer, Region

from .imports import source_label
from .income import yuan
from .models import IncomeDay, SalesDay


def sales_rows(user: User, *, start: dt.date, end: dt.date, region: Region | None = None) -> QuerySet[SalesDay]:
    """SalesDay rows of the range whose paying producer's village is in the user's region (and `region`)."""
    qs = SalesDay.objects.filter(day__gte=start, day__lte=end)
    scope = region_q(user, "producer__village")
    if scope is not None:
        qs = qs.filter(scope)
    if region is not None:
        qs = qs.filter(producer__village__path__startswith=region.path)
    return qs


def totals(qs: QuerySet[SalesDay]) -> dict:
    agg = qs.aggregate(g=Sum("gross_fen"), r=Sum("refunded_fen"), u=Sum("units"), n=Sum("lines"), k=Sum("refunds"))
    gross, refunded = agg["g"] or 0, agg["r"] or 0
    return {"gross": yuan(gross), "refunded": yuan(refunded), "net": yuan(gross - refunded), "units": agg["u"] or 0,
            "lines": agg["n"] or 0, "refunds": agg["k"] or 0,
            "refund_rate": (Decimal(refunded * 100) / gross).quantize(Decimal("0.1")) if gross else Decimal("0.0")}


def change(now: Decimal | int, before: Decimal | int) -> str:
    """Week-on-week change as text: "+12.5%", "-3.0%", "—" when there is nothing to compare with."""
    if not before:
        return "—" if not now else "新增"
    pct = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f"{pct:+.1f}%"


def daily(qs: QuerySet[SalesDay], *, start: dt.date, end: dt.date) -> list[dict]:
    got = {r["day"]: r for r in qs.values("day").annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"), u=Sum("units"))}
    out, day = [], start
    while day <= end:
        row = got.get(day, {})
        out.append({"day": day, "gross": yuan(row.get("g")), "refunded": yuan(row.get("r")), "units": row.get("u") or 0})
        day += dt.timedelta(days=1)
    return out


def top_products(qs: QuerySet[SalesDay], *, limit: int = 10) -> list[dict]:
    rows = (qs.values("product_id", "product__name").annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"),
                                                                u=Sum("units"), n=Sum("lines"))
            .order_by("-g", "product_id")[:limit])
    return [{"id": r["product_id"], "name": r["product__name"], "gross": yuan(r["g"]), "refunded": yuan(r["r"]),
             "units": r["u"], "lines": r["n"]} for r in rows]


def top_producers(qs: QuerySet[SalesDay], *, limit: int = 10) -> list[dict]:
    rows = (qs.values("producer_id", "producer__name", "producer__kind")
            .annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"), u=Sum("units")).order_by("-g", "producer_id")[:limit])
    kinds = dict(Producer.Kind.choices)
    return [{"id": r["producer_id"], "name": r["producer__name"], "kind": kinds.get(r["producer__kind"], ""),
             "gross": yuan(r["g"]), "refunded": yuan(r["r"]), "units": r["u"]} for r in rows]


def by_child_region(qs: QuerySet[SalesDay], region: Region) -> list[dict]:
    """Sales per region one level below `region`, by the paying producer's village."""
    children = list(Region.objects.filter(parent=region).order_by("code"))
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in qs.values("producer__village__path").annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"),
                                                             u=Sum("units")):
        for child in children:
            if row["producer__village__path"].startswith(child.path):
                s = sums[child.pk]
                s[0], s[1], s[2] = s[0] + (row["g"] or 0), s[1] + (row["r"] or 0), s[2] + (row["u"] or 0)
                break
    return [{"id": c.pk, "code": c.code, "name": c.name, "gross": yuan(sums[c.pk][0]),
             "refunded": yuan(sums[c.pk][1]), "units": sums[c.pk][2]} for c in children]


def quality(*, product: Product | None = None, producer: Producer | None = None, region: Region | None = None,
            start: dt.date, end: dt.date) -> dict:
    """Complaints, reviews and late shipments of the range (by when they were made)."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    complaints = Complaint.objects.filter(created_at__gte=lo, created_at__lt=hi)
    reviews = Review.objects.filter(created_at__gte=lo, created_at__lt=hi)
    late = Shipment.objects.filter(late=True, deadline__gte=lo, deadline__lt=hi)
    if product is not None:
        complaints = complaints.filter(line__product=product)
        reviews = reviews.filter(product=product)
        late = late.filter(items__line__product=product)
    if producer is not None:
        complaints = complaints.filter(producer=producer)
        reviews = reviews.filter(producer=producer)
        late = late.filter(producer=producer)
    if region is not None:
        complaints = complaints.filter(region__path__startswith=region.path)
        reviews = reviews.filter(producer__village__path__startswith=region.path)
        late = late.filter(producer__village__path__startswith=region.path)
    r = reviews.aggregate(avg=Avg("rating"), n=Count("id"))
    return {"complaints": complaints.count(), "reviews": r["n"],
            "rating": Decimal(str(r["avg"])).quantize(Decimal("0.1")) if r["avg"] is not None else None,
            "late_shipments": late.distinct().count()}


# --------------------------------------------------------------------------------------------- boards


def county_home(user: User, *, region: Region, today: dt.date | None = None) -> dict:
    """The operator's home: the last 7 days against the 7 before, what sold, what did not sell."""
    today = today or timezone.localdate()
    this_start, last_start = today - dt.timedelta(days=6), today - dt.timedelta(days=13)
    this = sales_rows(user, start=this_start, end=today, region=region)
    last = sales_rows(user, start=last_start, end=this_start - dt.timedelta(days=1), region=region)
    now_t, before_t = totals(this), totals(last)
    sold = top_products(this, limit=10)
    sold_ids = set(this.filter(units__gt=0).values_list("product_id", flat=True).distinct())
    unsold_qs = Product.objects.filter(status=ListingStatus.LISTED, origin__path__startswith=region.path)
    scope = region_q(user, "origin")
    if scope is not None:
        unsold_qs = unsold_qs.filter(scope)
    unsold = [{"id": p.pk, "name": p.name, "stock": p.stock, "price": p.price}
              for p in unsold_qs.exclude(pk__in=sold_ids).order_by("-stock", "id")[:20]]
    compare = [
        {"metric": "销售额(元)", "this": now_t["gross"], "last": before_t["gross"],
         "change": change(now_t["gross"], before_t["gross"])},
        {"metric": "退款(元)", "this": now_t["refunded"], "last": before_t["refunded"],
         "change": change(now_t["refunded"], before_t["refunded"])},
        {"metric": "销量(件)", "this": now_t["units"], "last": before_t["units"],
         "change": change(now_t["units"], before_t["units"])},
        {"metric": "订单行", "this": now_t["lines"], "last": before_t["lines"],
         "change": change(now_t["lines"], before_t["lines"])},
    ]
    return {"this_start": this_start, "last_start": last_start, "today": today, "this": now_t, "last": before_t,
            "compare": compare, "sold": sold, "unsold": unsold,
            "series": daily(sales_rows(user, start=last_start, end=today, region=region), start=last_start, end=today)}


MAX_MINUTES = 24 * 60


def _minutes(stream: Stream, seen: set[dt.datetime]) -> list[dt.datetime]:
    """Every minute from the stream's start (or first figure) to its end (or now, or the last figure), so
    pins and flash sales fall on the axis even in minutes without figures; at most a day."""
    def floor(t: dt.datetime) -> dt.datetime:
        return t.replace(second=0, microsecond=0)

    starts = [floor(t) for t in (stream.started_at, min(seen, default=None)) if t is not None]
    if not starts:
        return []
    first = min(starts)
    ends = [floor(t) for t in (stream.ended_at or (timezone.now() if stream.started_at else None),
                               max(seen, default=None)) if t is not None]
    last = min(max(ends, default=first), first + dt.timedelta(minutes=MAX_MINUTES - 1))
    out, t = [], first
    while t <= last:
        out.append(t)
        t += dt.timedelta(minutes=1)
    return out


def stream_board(stream: Stream) -> dict:
    minutes = list(StreamMinute.objects.filter(stream=stream).order_by("minute")
                   .values("minute", "concurrent_viewers", "chat_messages", "likes", "product_clicks", "new_viewers"))
    # The stream's paid lines, read once (one indexed pass over its orders): the per-minute sales, the
    # buyers and each flash sale's units come from these rows.
    paid_lines = (OrderLine.objects.filter(order__stream=stream, order__paid_at__isnull=False)
                  .values_list("order__paid_at", "order__buyer_id", "flash_sale_id", "quantity", "line_total",
                               "discount_share"))
    gmv: dict[dt.datetime, Decimal] = defaultdict(Decimal)
    buyer_ids: set[int] = set()
    sold: dict[int, int] = defaultdict(int)
    for paid_at, buyer_id, sale_id, quantity, total, discount in paid_lines:
        gmv[paid_at.replace(second=0, microsecond=0)] += total - discount
        buyer_ids.add(buyer_id)
        if sale_id is not None:
            sold[sale_id] += quantity
    timeline = _minutes(stream, set(m["minute"] for m in minutes) | set(gmv))
    by_minute = {m["minute"]: m for m in minutes}
    series = [{"minute": timezone.localtime(t), "viewers": by_minute.get(t, {}).get("concurrent_viewers", 0),
               "chat": by_minute.get(t, {}).get("chat_messages", 0), "likes": by_minute.get(t, {}).get("likes", 0),
               "clicks": by_minute.get(t, {}).get("product_clicks", 0),
               "gmv": Decimal(gmv.get(t) or 0).quantize(Decimal("0.01"))} for t in timeline]
    pins = [{"product": p.product.name, "at": timezone.localtime(p.pinned_at),
             "until": timezone.localtime(p.unpinned_at) if p.unpinned_at else None}
            for p in Pin.objects.filter(stream=stream).select_related("product").order_by("pinned_at")]
    # Units sold from paid lines (a sale's `remaining` lags behind under the Redis inventory backend).
    sales = [{"product": s.product.name, "at": timezone.localtime(s.starts_at), "until": timezone.localtime(s.ends_at),
              "price": s.sale_price, "quantity": s.quantity, "sold": sold.get(s.pk, 0),
              "status": s.get_status_display()}
             for s in FlashSale.objects.filter(stream=stream).select_related("product").order_by("starts_at")]
    viewers = ViewerSession.objects.filter(stream=stream).count()
    clicks = sum(m["product_clicks"] for m in minutes)
    buyers = len(buyer_ids)
    rows = SalesDay.objects.filter(stream=stream)
    return {"stream": stream, "series": series, "pins": pins, "flash_sales": sales, "totals": totals(rows),
            "top_products": top_products(rows, limit=10),
            "funnel": [{"step": "观众(人)", "value": viewers}, {"step": "商品点击(次)", "value": clicks},
                       {"step": "下单买家(人)", "value": buyers}],
            "peak_viewers": max((m["concurrent_viewers"] for m in minutes), default=0),
            "chat_total": sum(m["chat_messages"] for m in minutes), "likes_total": stream.like_total}


def host_board(user: User, host: Host, *, start: dt.date, end: dt.date) -> dict:
    streams = list(Stream.objects.filter(host=host).order_by("-planned_start")[:200])
    rows = SalesDay.objects.filter(stream__host=host, day__gte=start, day__lte=end)
    per_stream = {r["stream_id"]: r for r in rows.values("stream_id")
                  .annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"), u=Sum("units"), n=Sum("lines"))}
    table = [{"id": s.pk, "title": s.title, "start": timezone.localtime(s.started_at or s.planned_start),
              "status": s.get_status_display(), "gross": yuan(per_stream.get(s.pk, {}).get("g")),
              "refunded": yuan(per_stream.get(s.pk, {}).get("r")), "units": per_stream.get(s.pk, {}).get("u") or 0}
             for s in streams]
    complaints = Complaint.objects.filter(order__stream__host=host, created_at__date__gte=start,
                                          created_at__date__lte=end).count()
    return {"host": host, "streams": table, "totals": totals(rows), "series": daily(rows, start=start, end=end),
            "top_products": top_products(rows), "complaints": complaints}


def product_board(user: User, product: Product, *, start: dt.date, end: dt.date) -> dict:
    rows = SalesDay.objects.filter(product=product, day__gte=start, day__lte=end)
    by_source = [{"source": source_label(r["source"]), "gross": yuan(r["g"]), "units": r["u"]}
                 for r in rows.values("source").annotate(g=Sum("gross_fen"), u=Sum("units")).order_by("source")]
    return {"product": product, "totals": totals(rows), "series": daily(rows, start=start, end=end),
            "producers": top_producers(rows), "by_source": by_source,
            "quality": quality(product=product, start=start, end=end), "stock": product.stock}


def producer_board(user: User, producer: Producer, *, start: dt.date, end: dt.date) -> dict:
    rows = SalesDay.objects.filter(producer=producer, day__gte=start, day__lte=end)
    paid_out = (IncomeDay.objects.filter(payer=producer, day__gte=start, day__lte=end)
                .values("recipient_id", "recipient__name", "recipient__registered_poor", "retained")
                .annotate(s=Sum("amount_fen")).order_by("-s", "recipient_id"))
    received = (IncomeDay.objects.filter(recipient=producer, day__gte=start, day__lte=end)
                .exclude(payer=producer).values("payer_id", "payer__name").annotate(s=Sum("amount_fen"))
                .order_by("-s"))
    return {"producer": producer, "totals": totals(rows), "series": daily(rows, start=start, end=end),
            "products": top_products(rows, limit=50),
            "members": [{"id": r["recipient_id"], "name": r["recipient__name"], "poor": r["recipient__registered_poor"],
                         "retained": r["retained"], "amount": yuan(r["s"])} for r in paid_out],
            "via_coops": [{"id": r["payer_id"], "name": r["payer__name"], "amount": yuan(r["s"])} for r in received],
            "quality": quality(producer=producer, start=start, end=end)}


def region_board(user: User, region: Region, *, start: dt.date, end: dt.date) -> dict:
    rows = sales_rows(user, start=start, end=end, region=region)
    return {"region": region, "totals": totals(rows), "series": daily(rows, start=start, end=end),
            "children": by_child_region(rows, region), "top_products": top_products(rows),
            "top_producers": top_producers(rows), "quality": quality(region=region, start=start, end=end)}


def recent_streams(user: User, *, region: Region, limit: int = 20) -> list[Stream]:
    qs = Stream.objects.filter(channel__county__path__startswith=region.path)
    scope = region_q(user, "channel__county")
    if scope is not None:
        qs = qs.filter(scope)
    return list(qs.select_related("host__user").order_by("-planned_start")[:limit])

