"""Pages of the data centre (大数据中心), all under /insights/: the county home, household income, and the
stream, host, product, producer / co-op and region dashboards. Every table on them downloads as CSV or XLSX
(`?export=csv|xlsx&table=<slug>`, core/exports.py); charts get their data through json_script (charts.js)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from zhunong.accounts import policy
from zhunong.accounts.selectors import is_platform_admin
from zhunong.catalog.models import Product
from zhunong.core.audit import record_action
from zhunong.core.errors import DomainError
from zhunong.core.exports import Column, Table, export_response
from zhunong.live.models import Host, Stream
from zhunong.producers.models import Producer, Region

from . import dashboards, income
from .errors import DashboardNotFound, InvalidDateRange, NotInYourRegion

# Filled in by the forecasts part of the data centre; the county home includes it only if it exists.
WARNINGS_TEMPLATE = "insights/_warnings.html"
DEFAULT_DAYS = 30


def _optional_template(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def parse_range(params: Any) -> tuple[dt.date, dt.date]:  # noqa: ANN401
    """`start` and `end` (YYYY-MM-DD, both included) from the query; by default the last 30 days."""
    today = timezone.localdate()
    try:
        end = dt.date.fromisoformat(params["end"]) if params.get("end") else today
        start = dt.date.fromisoformat(params["start"]) if params.get("start") else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    except (ValueError, TypeError):
        raise InvalidDateRange(details={"field": "start" if params.get("start") else "end"})
    if start > end or (end - start).days > income.MAX_RANGE_DAYS or start.year < 2000 or end.year > 2100:
        raise InvalidDateRange(details={"field": "start"})
    return start, end


def _require(request: HttpRequest, action: str, obj: Any) -> None:  # noqa: ANN401
    policy.require(request.user, action, obj, error=NotInYourRegion(), outside=NotInYourRegion)


def _home_region(request: HttpRequest) -> Region:
    """The county the page is about: ?region=<code> (inside the user's region), else the user's own."""
    code = (request.GET.get("region") or "").strip()[:20]
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise DashboardNotFound(details={"region": code})
    elif request.user.region_id:
        region = request.user.region
    elif is_platform_admin(request.user):
        region = Region.objects.filter(level=Region.Level.COUNTY).order_by("code").first()
        if region is None:
            raise DashboardNotFound()
    else:
        raise NotInYourRegion()
    _require(request, "insights.view", region)
    return region


# Tables whose rows name people (households and their incomes): exporting one is audited.
PERSONAL_TABLES = frozenset({"households"})


def _respond(request: HttpRequest, template: str, context: dict, tables: list[Table]) -> HttpResponse:
    """The page, or one of its tables as a download when ?export= is given."""
    fmt = request.GET.get("export")
    if fmt:
        slug = request.GET.get("table", "")
        for table in tables:
            if table.slug == slug:
                response = export_response(table, fmt)
                if slug in PERSONAL_TABLES:  # named households and their incomes: personal data leaving the site
                    record_action(actor=request.user, action="export.personal_data", subject=None,
                                  after={"table": slug, "format": fmt, "path": request.path[:200],
                                         "rows": len(table.rows)})
                return response
        raise DashboardNotFound(details={"table": slug[:40]})
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("table", None)
    context.update({"tables": {t.slug: t for t in tables}, "query": query.urlencode()})
    return render(request, template, context)


def _guarded(view):  # noqa: ANN001, ANN202
    """Domain errors become a page with their message and status (422 bad range, 403, 404)."""
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # noqa: ANN401
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "insights/error.html", {"error": exc}, status=exc.status)
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return login_required(require_GET(wrapper))


def _base(request: HttpRequest, start: dt.date, end: dt.date, **extra: Any) -> dict:  # noqa: ANN401
    return {"start": start, "end": end, "today": timezone.localdate(), **extra}


def _line_chart(slug: str, title: str, x: list, series: list[tuple[str, list]], **extra: Any) -> dict:  # noqa: ANN401
    return {"id": slug, "type": "line", "title": title, "x": [str(v) for v in x],
            "series": [{"name": name, "data": [float(v) if isinstance(v, Decimal) else v for v in data]}
                       for name, data in series], **extra}


def _daily_chart(slug: str, series: list[dict], title: str = "每日销售额(元)") -> dict:
    return _line_chart(slug, title, [r["day"].strftime("%m-%d") for r in series],
                       [("销售额", [r["gross"] for r in series]), ("退款", [r["refunded"] for r in series])])


MONEY = {"numeric": True}


def _products_table(rows: list[dict], slug: str = "products", title: str = "商品销售") -> Table:
    for r in rows:
        r["url"] = reverse("insights:product", args=[r["id"]])
    return Table(slug, title, [Column("name", "商品", link="url"), Column("gross", "销售额(元)", **MONEY),
                               Column("refunded", "退款(元)", **MONEY), Column("units", "销量", numeric=True)], rows)


# ------------------------------------------------------------------------------------------------ pages


@_guarded
def home(request: HttpRequest) -> HttpResponse:
    """The county operator's home: this week against last, what sold and what did not, warnings."""
    region = _home_region(request)
    board = dashboards.county_home(request.user, region=region)
    compare = Table("week", "近7天与前7天", [Column("metric", "指标"), Column("this", "近7天", numeric=True),
                                             Column("last", "前7天", numeric=True), Column("change", "变化")],
                    board["compare"])
    sold = _products_table(board["sold"], "sold", "近7天卖得好的商品")
    for r in board["unsold"]:
        r["url"] = reverse("insights:product", args=[r["id"]])
    unsold = Table("unsold", "近7天没有卖出的在售商品", [Column("name", "商品", link="url"),
                                                   Column("stock", "库存", numeric=True),
                                                   Column("price", "售价(元)", **MONEY)], board["unsold"])
    streams = [{"title": s.title, "host": str(s.host), "start": timezone.localtime(s.started_at or s.planned_start)
                .strftime("%Y-%m-%d %H:%M"), "status": s.get_status_display(),
                "url": reverse("insights:stream", args=[s.pk])}
               for s in dashboards.recent_streams(request.user, region=region)]
    stream_table = Table("streams", "最近的直播", [Column("title", "直播", link="url"), Column("host", "主播"),
                                                 Column("start", "开始"), Column("status", "状态")], streams)
    series = board["series"]
    chart = _daily_chart("home-daily", series, "近14天每日销售额(元)")
    context = _base(request, board["this_start"], board["today"], region=region, board=board, chart=chart,
                    warnings_template=_optional_template(WARNINGS_TEMPLATE),
                    counties=Region.objects.filter(level=Region.Level.COUNTY).order_by("code")
                    if is_platform_admin(request.user) else [])
    return _respond(request, "insights/home.html", context, [compare, sold, unsold, stream_table])


@_guarded
def income_page(request: HttpRequest) -> HttpResponse:
    """What reached households: per household, per region below the county, registered poverty households."""
    region = _home_region(request)
    start, end = parse_range(request.GET)
    poor_only = request.GET.get("poor") == "1"
    summary = income.summary(request.user, start=start, end=end, region=region)
    households = income.households(request.user, start=start, end=end, region=region, poor_only=poor_only)
    for r in households:
        r["url"] = reverse("insights:producer", args=[r["id"]])
    regions = income.by_region(request.user, start=start, end=end, region=region)
    for r in regions:
        r["url"] = reverse("insights:region", args=[r["code"]]) + f"?start={start}&end={end}"
    series = income.daily(request.user, start=start, end=end, region=region)
    chart = _line_chart("income-daily", "每日到户收入(元)", [r["day"].strftime("%m-%d") for r in series],
                        [("农户合计", [r["total"] for r in series]), ("建档立卡户", [r["poor"] for r in series])])
    tables = [
        Table("households", "各农户收入", [Column("name", "农户", link="url"), Column("village", "村"),
                                           Column("poor", "建档立卡"), Column("direct", "直接销售(元)", **MONEY),
                                           Column("via_coops", "合作社分配(元)", **MONEY),
                                           Column("total", "合计(元)", **MONEY)], households),
        Table("regions", "各地区农户收入", [Column("name", "地区", link="url"), Column("total", "农户收入(元)", **MONEY),
                                            Column("poor", "其中建档立卡户(元)", **MONEY)], regions),
    ]
    context = _base(request, start, end, region=region, summary=summary, chart=chart, poor_only=poor_only)
    return _respond(request, "insights/income.html", context, tables)


@_guarded
def stream_page(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = Stream.objects.select_related("host__user", "channel__county").filter(pk=stream_id).first()
    if stream is None:
        raise DashboardNotFound()
    if not (policy.can(request.user, "insights.view", stream) or policy.can(request.user, "stream.audit", stream)):
        raise NotInYourRegion()
    board = dashboards.stream_board(stream)
    s = board["series"]
    x = [r["minute"].strftime("%H:%M") for r in s]
    marks = [{"x": p["at"].strftime("%H:%M"), "label": "讲解 " + p["product"][:8]} for p in board["pins"]]
    areas = [{"from": f["at"].strftime("%H:%M"), "to": f["until"].strftime("%H:%M"), "label": "秒杀"}
             for f in board["flash_sales"]]
    charts = [
        _line_chart("stream-audience", "观众、弹幕、点赞(每分钟)", x,
                    [("在线人数", [r["viewers"] for r in s]), ("弹幕", [r["chat"] for r in s]),
                     ("点赞", [r["likes"] for r in s])]),
        _line_chart("stream-gmv", "成交额(元/分钟)：竖线为讲解，阴影为秒杀", x, [("成交额", [r["gmv"] for r in s])],
                    marks=marks, areas=areas),
        {"id": "stream-funnel", "type": "funnel", "title": "转化：观众 → 点击 → 买家",
         "x": [f["step"] for f in board["funnel"]], "series": [{"name": "转化", "data": [f["value"] for f in board["funnel"]]}]},
    ]
    minutes = [{"minute": r["minute"].strftime("%H:%M"), "viewers": r["viewers"], "chat": r["chat"], "likes": r["likes"],
                "clicks": r["clicks"], "gmv": r["gmv"]} for r in s]
    tables = [
        _products_table(board["top_products"], "products", "热销商品"),
        Table("minutes", "每分钟数据", [Column("minute", "时间"), Column("viewers", "在线人数", numeric=True),
                                         Column("chat", "弹幕", numeric=True), Column("likes", "点赞", numeric=True),
                                         Column("clicks", "商品点击", numeric=True),
                                         Column("gmv", "成交额(元)", **MONEY)], minutes),
        Table("funnel", "转化", [Column("step", "环节"), Column("value", "数量", numeric=True)], board["funnel"]),
        Table("moments", "讲解与秒杀", [Column("what", "事件"), Column("product", "商品"), Column("at", "开始"),
                                          Column("until", "结束"), Column("sold", "秒杀售出", numeric=True)],
              [{"what": "讲解", "product": p["product"], "at": p["at"].strftime("%H:%M"),
                "until": p["until"].strftime("%H:%M") if p["until"] else ""} for p in board["pins"]]
              + [{"what": f"秒杀 ¥{f['price']}", "product": f["product"], "at": f["at"].strftime("%H:%M"),
                  "until": f["until"].strftime("%H:%M"), "sold": f["sold"]} for f in board["flash_sales"]]),
    ]
    context = {"stream": stream, "board": board, "charts": charts, "region": stream.channel.county}
    return _respond(request, "insights/stream.html", context, tables)


@_guarded
def host_page(request: HttpRequest, host_id: int) -> HttpResponse:
    host = Host.objects.select_related("user", "channel__county").filter(pk=host_id).first()
    if host is None:
        raise DashboardNotFound()
    _require(request, "insights.view", host)
    start, end = parse_range(request.GET)
    board = dashboards.host_board(request.user, host, start=start, end=end)
    for r in board["streams"]:
        r["url"] = reverse("insights:stream", args=[r["id"]])
        r["start"] = r["start"].strftime("%Y-%m-%d %H:%M")
    tables = [Table("streams", "直播场次", [Column("title", "直播", link="url"), Column("start", "开始"),
                                            Column("status", "状态"), Column("gross", "销售额(元)", **MONEY),
                                            Column("refunded", "退款(元)", **MONEY),
                                            Column("units", "销量", numeric=True)], board["streams"]),
              _products_table(board["top_products"])]
    context = _base(request, start, end, host=host, board=board, chart=_daily_chart("host-daily", board["series"]),
                    region=host.channel.county)
    return _respond(request, "insights/host.html", context, tables)


@_guarded
def product_page(request: HttpRequest, product_id: int) -> HttpResponse:
    product = Product.objects.select_related("origin").filter(pk=product_id).first()
    if product is None:
        raise DashboardNotFound()
    _require(request, "insights.view", product.origin)
    start, end = parse_range(request.GET)
    board = dashboards.product_board(request.user, product, start=start, end=end)
    for r in board["producers"]:
        r["url"] = reverse("insights:producer", args=[r["id"]])
    daily_rows = [{"day": r["day"].isoformat(), "gross": r["gross"], "refunded": r["refunded"], "units": r["units"]}
                  for r in board["series"]]
    tables = [
        Table("daily", "每日销售", [Column("day", "日期"), Column("gross", "销售额(元)", **MONEY),
                                    Column("refunded", "退款(元)", **MONEY), Column("units", "销量", numeric=True)],
              daily_rows),
        Table("producers", "供货生产者", [Column("name", "生产者", link="url"), Column("kind", "类型"),
                                          Column("gross", "销售额(元)", **MONEY), Column("units", "销量", numeric=True)],
              board["producers"]),
        Table("sources", "销售渠道", [Column("source", "渠道"), Column("gross", "销售额(元)", **MONEY),
                                      Column("units", "销量", numeric=True)], board["by_source"]),
    ]
    context = _base(request, start, end, product=product, board=board, region=product.origin,
                    chart=_daily_chart("product-daily", board["series"]))
    return _respond(request, "insights/product.html", context, tables)


@_guarded
def producer_page(request: HttpRequest, producer_id: int) -> HttpResponse:
    producer = Producer.objects.select_related("village").filter(pk=producer_id).first()
    if producer is None:
        raise DashboardNotFound()
    if not (policy.can(request.user, "insights.view", producer.village)
            or policy.can(request.user, "producer.view_sales", producer)):
        raise NotInYourRegion()
    start, end = parse_range(request.GET)
    board = dashboards.producer_board(request.user, producer, start=start, end=end)
    for r in board["via_coops"]:
        r["url"] = reverse("insights:producer", args=[r["id"]])
    tables = [
        _products_table(board["products"]),
        Table("members", "收入分到谁手里", [Column("name", "收款方"), Column("poor", "建档立卡"),
                                            Column("retained", "合作社留存"), Column("amount", "金额(元)", **MONEY)],
              board["members"]),
        Table("via_coops", "通过合作社分得", [Column("name", "合作社", link="url"),
                                              Column("amount", "金额(元)", **MONEY)], board["via_coops"]),
    ]
    context = _base(request, start, end, producer=producer, board=board, region=producer.village,
                    chart=_daily_chart("producer-daily", board["series"]))
    return _respond(request, "insights/producer.html", context, tables)


@_guarded
def region_page(request: HttpRequest, code: str) -> HttpResponse:
    region = Region.objects.filter(code=code[:20]).select_related("parent").first()
    if region is None:
        raise DashboardNotFound()
    _require(request, "insights.view", region)
    start, end = parse_range(request.GET)
    board = dashboards.region_board(request.user, region, start=start, end=end)
    for r in board["children"]:
        r["url"] = reverse("insights:region", args=[r["code"]]) + f"?start={start}&end={end}"
    for r in board["top_producers"]:
        r["url"] = reverse("insights:producer", args=[r["id"]])
    households = income.households(request.user, start=start, end=end, region=region, limit=200)
    for r in households:
        r["url"] = reverse("insights:producer", args=[r["id"]])
    tables = [
        Table("children", "下级地区", [Column("name", "地区", link="url"), Column("gross", "销售额(元)", **MONEY),
                                       Column("refunded", "退款(元)", **MONEY), Column("units", "销量", numeric=True)],
              board["children"]),
        _products_table(board["top_products"]),
        Table("producers", "生产者", [Column("name", "生产者", link="url"), Column("kind", "类型"),
                                      Column("gross", "销售额(元)", **MONEY), Column("units", "销量", numeric=True)],
              board["top_producers"]),
        Table("households", "农户收入", [Column("name", "农户", link="url"), Column("village", "村"),
                                         Column("poor", "建档立卡"), Column("total", "合计(元)", **MONEY)], households),
    ]
    chart = _daily_chart("region-daily", board["series"])
    bars = {"id": "region-children", "type": "bar", "title": "下级地区销售额(元)",
            "x": [c["name"] for c in board["children"]],
            "series": [{"name": "销售额", "data": [float(c["gross"]) for c in board["children"]]}]}
    context = _base(request, start, end, region=region, board=board, chart=chart, bars=bars,
                    crumbs=region.ancestors(include_self=False))
    return _respond(request, "insights/region.html", context, tables)

