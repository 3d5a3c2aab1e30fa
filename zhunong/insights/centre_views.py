"""Pages of the data centre's forecasting part, under /insights/: demand forecasts (per county and per
product, with the product's comment themes), unsold-produce warnings, season plans per co-op, comment
mining (the county's requested products nobody sells), order imports, and the progress of their jobs.

The county, the permission check, error pages and table exports are the dashboards' (views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from zhunong.catalog.models import Product
from zhunong.core.errors import DomainError
from zhunong.core.exports import Column, Table
from zhunong.producers.models import Region

from . import feedback, forecasting, imports, jobs, warnings
from .errors import DashboardNotFound
from .models import Job
from .views import _guarded, _home_region, _require, _respond

MAX_UPLOAD = imports.MAX_BYTES


def _county(request: HttpRequest) -> Region:
    region = _home_region(request)
    county = region if region.level == Region.Level.COUNTY else region.ancestor_at(Region.Level.COUNTY)
    if county is None:
        raise DashboardNotFound(details={"region": region.code})
    return county


def _guarded_post(view):  # noqa: ANN001, ANN202
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # noqa: ANN401
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "insights/error.html", {"error": exc}, status=exc.status)
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return login_required(require_POST(wrapper))


def _with_region(url: str, county: Region) -> str:
    return f"{url}?region={county.code}"


# --- forecasts -------------------------------------------------------------------------------------


@_guarded
def forecasts_page(request: HttpRequest) -> HttpResponse:
    """Every product of the county: its forecast for the next weeks and how the model did in its backtest."""
    county = _county(request)
    stored = {f.product_id: f for f in forecasting.DemandForecast.objects.filter(
        product__origin__path__startswith=county.path)}
    rows = []
    for product in forecasting.products_of(county):
        f = stored.get(product.pk)
        bt = f.backtest if f else {}
        rows.append({
            "name": product.name, "url": _with_region(reverse("insights:forecast", args=[product.pk]), county),
            "model": f.model_label if f else "", "next7": round(sum(p["mean"] for p in f.points[:7]), 1) if f else None,
            "next28": round(sum(p["mean"] for p in f.points), 1) if f else None,
            "mae": bt.get("mae"), "baseline": bt.get("baseline_mae"),
            "skill": f"{bt['skill'] * 100:.0f}%" if bt.get("skill") is not None else "",
        })
    table = Table("forecasts", "商品需求预测（未来28天）", [
        Column("name", "商品", link="url"), Column("model", "模型"), Column("next7", "未来7天(件)", numeric=True),
        Column("next28", "未来28天(件)", numeric=True), Column("mae", "回测误差MAE", numeric=True),
        Column("baseline", "季节朴素MAE", numeric=True), Column("skill", "比基准好")], rows)
    context = {"region": county, "job": jobs.latest(kind=Job.Kind.FORECAST, region=county),
               "job_kind": Job.Kind.FORECAST, "forecast_count": len(stored)}
    return _respond(request, "insights/forecasts.html", context, [table])


def _forecast_chart(view: forecasting.ForecastView) -> dict:
    f = view.forecast
    return {"id": "forecast", "title": f"每日需求：近6周与未来{len(f.points)}天（{f.level}%区间）",
            "x": [h["date"][5:] for h in view.history] + [p["date"][5:] for p in f.points],
            "history": [h["units"] for h in view.history] + [None] * len(f.points),
            "mean": [None] * len(view.history) + [p["mean"] for p in f.points],
            "lo": [None] * len(view.history) + [p["lo"] for p in f.points],
            "hi": [None] * len(view.history) + [p["hi"] for p in f.points]}


def _theme_table(slug: str, title: str, items: list[feedback.ThemeSummary]) -> Table:
    trend = {"rising": "上升", "falling": "下降", "steady": "平稳"}
    rows = [{"label": s.label if s.theme in feedback.classifier.THEMES else s.theme, "count": s.count,
             "trend": trend[s.trend], "weekly": " ".join(str(n) for n in s.weekly),
             "keywords": "、".join(s.keywords), "examples": " / ".join(s.examples)} for s in items]
    return Table(slug, title, [Column("label", "主题"), Column("count", "条数", numeric=True), Column("trend", "趋势"),
                               Column("weekly", "每周条数(旧→新)"), Column("keywords", "关键词"),
                               Column("examples", "例句")], rows)


@_guarded
def forecast_page(request: HttpRequest, product_id: int) -> HttpResponse:
    """One product: the forecast with its interval (chart and table), the backtest, and what buyers say."""
    product = Product.objects.filter(pk=product_id).select_related("origin").first()
    if product is None:
        raise DashboardNotFound(details={"product": product_id})
    _require(request, "insights.view", product.origin)
    county = product.origin.ancestor_at(Region.Level.COUNTY) or product.origin
    view = forecasting.forecast_of(product)
    tables = []
    if view is not None:
        tables.append(Table("points", "预测明细", [Column("date", "日期"), Column("mean", "预测(件)", numeric=True),
                                                  Column("lo", "区间下限", numeric=True), Column("hi", "区间上限", numeric=True)],
                            view.forecast.points))
    said = feedback.product_feedback(product)
    tables += [_theme_table("complaints", "主要抱怨", said.complaints), _theme_table("requests", "买家求购", said.requests),
               _theme_table("praise", "主要好评", said.praise)]
    context = {"region": county, "product": product, "view": view, "chart": _forecast_chart(view) if view else None,
               "said": said}
    return _respond(request, "insights/forecast.html", context, tables)


# --- warnings and plans ----------------------------------------------------------------------------


@_guarded
def warnings_page(request: HttpRequest) -> HttpResponse:
    """Harvest batches expected to go partly unsold before they expire, with what to do about it."""
    county = _county(request)
    found = warnings.batch_warnings(county=county)
    rows = [{"products": "、".join(p.name for p in w.products), "lot": w.batch.lot_number or str(w.batch.pk),
             "producer": w.batch.plot.producer.name, "stock": w.stock, "demand": w.demand, "unsold": w.unsold,
             "unit": w.unit, "expires": w.expires_on.isoformat(), "days": w.days_left,
             "severity": "高" if w.severity == "high" else "中", "actions": " ".join(a.text for a in w.actions)}
            for w in found]
    table = Table("warnings", "滞销预警", [
        Column("products", "商品"), Column("lot", "批号"), Column("producer", "生产者"), Column("stock", "剩余", numeric=True),
        Column("demand", "到期前预计需求", numeric=True), Column("unsold", "预计卖不完", numeric=True), Column("unit", "单位"),
        Column("expires", "到期日"), Column("days", "剩余天数", numeric=True), Column("severity", "级别"),
        Column("actions", "建议")], rows)
    context = {"region": county, "stock_warnings": found, "elasticity": warnings.ELASTICITY,
               "forecast_job": jobs.latest(kind=Job.Kind.FORECAST, region=county)}
    return _respond(request, "insights/warnings.html", context, [table])


@_guarded
def plans_page(request: HttpRequest) -> HttpResponse:
    """以销定产: per co-op, next season's quantities from the forecasts, and what buyers ask for."""
    county = _county(request)
    plans = [warnings.season_plan(coop) for coop in warnings.cooperatives_in(county)]
    label = {"expand": "扩大", "keep": "保持", "reduce": "减少"}
    tables = []
    for plan in plans:
        rows = [{"product": r.product.name, "sold": r.sold_last_season, "harvested": r.harvested_last_season,
                 "forecast": r.forecast_next_season, "target": r.suggested_quantity, "unit": r.unit,
                 "suggestion": label[r.suggestion]} for r in plan.rows]
        tables.append(Table(f"plan-{plan.cooperative.pk}", f"{plan.cooperative.name}：下一季（{plan.season_days}天）生产计划", [
            Column("product", "商品"), Column("sold", "上一季销量", numeric=True),
            Column("harvested", "上一季采收", numeric=True), Column("forecast", "下一季预测需求", numeric=True),
            Column("target", "建议产量(含10%余量)", numeric=True), Column("unit", "单位"), Column("suggestion", "建议")], rows))
    context = {"region": county, "plans": list(zip(plans, tables, strict=True))}
    return _respond(request, "insights/plans.html", context, tables)


# --- comment mining --------------------------------------------------------------------------------


@_guarded
def feedback_page(request: HttpRequest) -> HttpResponse:
    """The county's chat and reviews by theme: requested products nobody sells yet, complaints per product."""
    county = _county(request)
    unmet = feedback.unmet_requests(county)
    requests_table = Table("unmet", "买家想买、本县还没有人卖的商品", [
        Column("name", "商品"), Column("count", "提到次数", numeric=True), Column("last", "最近一次"),
        Column("examples", "例句")],
        [{"name": r.name, "count": r.count, "last": r.last_asked.date().isoformat(), "examples": " / ".join(r.examples)}
         for r in unmet])
    rows = []
    for product in forecasting.products_of(county):
        said = feedback.product_feedback(product, limit=1)
        if not said.comments:
            continue
        top = said.complaints[0] if said.complaints else None
        req = said.requests[0] if said.requests else None
        rows.append({"name": product.name, "url": _with_region(reverse("insights:forecast", args=[product.pk]), county),
                     "comments": said.comments, "complaint": f"{top.label}（{top.count}）" if top else "",
                     "example": top.examples[0] if top else "", "request": f"{req.label}（{req.count}）" if req else ""})
    rows.sort(key=lambda r: -r["comments"])
    products_table = Table("products", "各商品的评论（近8周）", [
        Column("name", "商品", link="url"), Column("comments", "评论数", numeric=True), Column("complaint", "最多的抱怨"),
        Column("example", "例句"), Column("request", "最多的求购")], rows)
    context = {"region": county, "job": jobs.latest(kind=Job.Kind.FEEDBACK, region=county),
               "job_kind": Job.Kind.FEEDBACK, "pending": feedback.pending_count(county=county),
               "labels": feedback.classifier.lexicon().labels}
    return _respond(request, "insights/feedback.html", context, [requests_table, products_table])


# --- jobs -----------------------------------------------------------------------------------------


@_guarded_post
def start_job(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in Job.Kind.values:
        raise DashboardNotFound(details={"job": kind[:20]})
    county = _county(request)
    _require(request, "insights.view", county)
    job = jobs.start(kind=kind, region=county, user=request.user)
    messages.info(request, "已开始，进度见下方。")
    back = "insights:forecasts" if kind == Job.Kind.FORECAST else "insights:feedback"
    return redirect(_with_region(reverse(back), county) + f"#job-{job.pk}")


@login_required
@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's progress panel (htmx polls it every second until the job ends)."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        if job.region is not None:
            _require(request, "insights.view", job.region)
        else:
            _require(request, "insights.view", Region.objects.filter(level=Region.Level.COUNTY).first())
    except DomainError as exc:
        return render(request, "insights/error.html", {"error": exc}, status=exc.status)
    return render(request, "insights/_job.html", {"job": job})


# --- imports --------------------------------------------------------------------------------------


def _imports_context(county: Region, **extra: Any) -> dict:  # noqa: ANN401
    return {"region": county, "sources": imports.SOURCES, "files": imports.imported_files(county),
            "max_mb": MAX_UPLOAD // 1024 // 1024, **extra}


@_guarded
def imports_page(request: HttpRequest) -> HttpResponse:
    county = _county(request)
    _require(request, "insights.import", county)
    return render(request, "insights/imports.html", _imports_context(county))


@_guarded_post
def upload_import(request: HttpRequest) -> HttpResponse:
    """Import one uploaded export; a bad file comes back with every bad row, nothing imported."""
    county = _county(request)
    source = (request.POST.get("source") or "")[:20]
    upload = request.FILES.get("file")
    errors: list[dict] = []
    problem = ""
    if upload is None:
        problem = "请选择要导入的文件。"
    elif upload.size > MAX_UPLOAD:
        problem = f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB。"
    if problem:
        return render(request, "insights/imports.html", _imports_context(county, problem=problem, source=source), status=422)
    try:
        result = imports.import_orders(user=request.user, county=county, source=source, filename=upload.name,
                                       content=upload.read(), dry_run=bool(request.POST.get("dry_run")))
    except DomainError as exc:
        if exc.status == 403:
            raise
        errors = exc.details.get("errors", [])
        problem = "文件没有导入：请改正下列各行后重新上传。" if errors else str(exc.message)
        return render(request, "insights/imports.html",
                      _imports_context(county, problem=problem, errors=errors, source=source, code=exc.code), status=422)
    if result.already_imported:
        messages.info(request, "这个文件之前已经导入过，没有重复导入。")
    elif result.dry_run:
        messages.info(request, f"检查通过（未导入）：可导入 {result.imported} 行，已存在 {result.skipped_existing} 行，未付款 {result.skipped_unpaid} 行。")
    else:
        messages.success(request, f"已导入 {result.imported} 行；已存在而跳过 {result.skipped_existing} 行；未付款跳过 {result.skipped_unpaid} 行。")
    return redirect(_with_region(reverse("insights:imports"), county))
