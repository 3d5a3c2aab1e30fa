"""Models of the data centre (insights).

Several parts of the data centre keep their own tables here; each section says what it holds.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Comment mining, forecasts, warnings, imports, jobs (feedback.py, forecasting.py, warnings.py,
# imports.py, jobs.py) ---------------------------------------------------------------------------------


class Job(models.Model):
    """A background job of the data centre (Huey) and its progress, shown on the page that started it."""

    class Kind(models.TextChoices):
        FORECAST = "forecast", _("需求预测")
        FEEDBACK = "feedback", _("评论分析")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("任务类型"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("状态"))
    region = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("区域"))
    done = models.PositiveIntegerField(default=0, verbose_name=_("已完成数"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("总数"))
    message = models.CharField(max_length=300, blank=True, verbose_name=_("进度说明"))
    result = models.JSONField(default=dict, blank=True, verbose_name=_("结果"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("开始人"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("完成时间"))

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == self.Status.DONE else 0)


class CommentInsight(models.Model):
    """One chat message or review, classified (zh.feedback): its themes, sentiment and the words behind them."""

    class Source(models.TextChoices):
        CHAT = "chat", _("直播间弹幕")
        REVIEW = "review", _("评价")

    source = models.CharField(max_length=8, choices=Source.choices, verbose_name=_("来源"))
    source_id = models.PositiveBigIntegerField(verbose_name=_("来源编号"))
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="comment_insights", verbose_name=_("商品"))
    county = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("县"))
    text = models.CharField(max_length=500, verbose_name=_("原文"))
    themes = models.JSONField(default=list, verbose_name=_("主题"))
    sentiment = models.FloatField(default=0, verbose_name=_("情感倾向"))
    keywords = models.JSONField(default=list, verbose_name=_("关键词"))
    requested = models.CharField(max_length=50, blank=True, db_index=True, verbose_name=_("想要的商品"))
    said_at = models.DateTimeField(db_index=True, verbose_name=_("发言时间"))

    class Meta:
        verbose_name = _("评论洞察")
        verbose_name_plural = _("评论洞察")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="commentinsight_once")]
        indexes = [models.Index(fields=["product", "said_at"])]

    def __str__(self) -> str:
        return self.text[:40]


# forecast_core's model names shown in Chinese; ETS(A,N,A), TSB and the like are the method's own notation.
MODEL_LABELS = {
    "Mean": _("历史均值"),
    "SeasonalNaive": _("季节朴素法"),
    "CrostonOptimized": _("Croston 法（优化）"),
}


class DemandForecast(models.Model):
    """The latest daily demand forecast of one product, with its backtest against the seasonal-naive baseline."""

    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="demand_forecast", verbose_name=_("商品"))
    model_name = models.CharField(max_length=40, verbose_name=_("模型"))
    start = models.DateField(verbose_name=_("预测起始日"))
    # [{"date": "2026-01-01", "mean": 3.2, "lo": 1.0, "hi": 5.4}, ...] for `horizon` days from `start`.
    points = models.JSONField(default=list, verbose_name=_("预测值"))
    level = models.PositiveSmallIntegerField(default=80, verbose_name=_("置信水平"))
    history_days = models.PositiveIntegerField(default=0, verbose_name=_("历史天数"))
    mean_daily = models.FloatField(default=0, verbose_name=_("日均"))
    backtest = models.JSONField(default=dict, blank=True, verbose_name=_("回测"))
    created_at = models.DateTimeField(auto_now=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("需求预测")
        verbose_name_plural = _("需求预测")

    def __str__(self) -> str:
        return _("商品 %(product)s 的需求预测（%(model)s）") % {"product": self.product_id, "model": self.model_label}

    @property
    def model_label(self) -> str:
        """The model's name for people (forecast_core stores the library's names: Mean, SeasonalNaive, ...)."""
        label = MODEL_LABELS.get(self.model_name)
        return str(label) if label is not None else self.model_name


class ImportFile(models.Model):
    """One order export from another platform, imported whole (all rows or none)."""

    source = models.CharField(max_length=16, verbose_name=_("来源"))
    filename = models.CharField(max_length=200, verbose_name=_("文件名"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    county = models.ForeignKey("producers.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("县"))
    rows = models.PositiveIntegerField(default=0, verbose_name=_("行数"))
    skipped = models.PositiveIntegerField(default=0, verbose_name=_("跳过行数"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("导入人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("导入文件")
        verbose_name_plural = _("导入文件")
        constraints = [models.UniqueConstraint(fields=["source", "sha256"], name="importfile_once")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source}: {self.filename}"


class ImportedOrderLine(models.Model):
    """An order line sold through another platform; dashboards and income read these beside OrderLine.

    Money is what the other platform paid for the line (`line_total` minus `refunded_amount`); `producer`
    is the seller of record, as on OrderLine, so income attribution treats both alike.
    """

    file = models.ForeignKey(ImportFile, on_delete=models.PROTECT, related_name="lines", verbose_name=_("导入文件"))
    source = models.CharField(max_length=16, db_index=True, verbose_name=_("来源"))
    external_order = models.CharField(max_length=64, verbose_name=_("外部订单号"))
    external_line = models.CharField(max_length=32, verbose_name=_("外部明细号"))
    ordered_at = models.DateTimeField(db_index=True, verbose_name=_("下单时间"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="imported_lines", verbose_name=_("商品"))
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="imported_lines", verbose_name=_("生产者"))
    quantity = models.PositiveIntegerField(verbose_name=_("数量"))
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("单价"))
    line_total = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("小计"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, verbose_name=_("已退款金额"))

    class Meta:
        verbose_name = _("导入订单明细")
        verbose_name_plural = _("导入订单明细")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_order", "external_line"], name="importedline_once"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="importedline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(refunded_amount__gte=0), name="importedline_refund_nonneg"),
        ]
        indexes = [models.Index(fields=["product", "ordered_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.external_order}/{self.external_line}"


# --- Income and dashboards (rollups.py, income.py, dashboards.py) -----------------------------------------
# Rollups kept as orders change (receivers of orders' signals, rollups.py), so dashboards never scan order
# lines (docs/decisions/0018-dashboard-rollups.md). Money is in fen (integers): sums stay exact on every
# database, and the totals reconcile to the fen with the payments ledger.

PLATFORM = ""  # `source` of this platform's own orders; imports carry their platform's name


class SalesDay(models.Model):
    """What one producer was paid and refunded for one product on one day, per stream (none: not in a stream).

    Dated by the money's event, as the ledger is: a sale on its payment's day, a refund on the refund's."""

    day = models.DateField(verbose_name=_("日期"))
    source = models.CharField(max_length=16, blank=True, default=PLATFORM, verbose_name=_("来源"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    producer = models.ForeignKey("producers.Producer", on_delete=models.CASCADE, related_name="+", verbose_name=_("生产者"))
    stream = models.ForeignKey("live.Stream", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("直播场次"))
    gross_fen = models.BigIntegerField(default=0, verbose_name=_("销售额（分）"))
    refunded_fen = models.BigIntegerField(default=0, verbose_name=_("退款（分）"))
    units = models.BigIntegerField(default=0, verbose_name=_("件数"))
    lines = models.BigIntegerField(default=0, verbose_name=_("明细"))
    refunds = models.BigIntegerField(default=0, verbose_name=_("退款笔数"))

    class Meta:
        verbose_name = _("日销售汇总")
        verbose_name_plural = _("日销售汇总")
        constraints = [
            models.UniqueConstraint(fields=["day", "source", "product", "producer", "stream"],
                                    condition=models.Q(stream__isnull=False), name="salesday_key_stream"),
            models.UniqueConstraint(fields=["day", "source", "product", "producer"],
                                    condition=models.Q(stream__isnull=True), name="salesday_key_nostream"),
        ]
        indexes = [models.Index(fields=["day"]), models.Index(fields=["producer", "day"]),
                   models.Index(fields=["product", "day"]), models.Index(fields=["stream", "day"])]


class IncomeDay(models.Model):
    """What reached one recipient on one day from one payer's sales of one product.

    The payer is the producer the ledger pays (a household, a co-op, an enterprise). A household paid
    directly is its own recipient; a co-op's money goes to its members by its share scheme, or stays with
    the co-op (`retained`) when nobody can be credited. Rows of one (day, source, product, payer) always add
    up to that payer's net sales of the product that day."""

    day = models.DateField(verbose_name=_("日期"))
    source = models.CharField(max_length=16, blank=True, default=PLATFORM, verbose_name=_("来源"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    payer = models.ForeignKey("producers.Producer", on_delete=models.CASCADE, related_name="+", verbose_name=_("付款方"))
    recipient = models.ForeignKey("producers.Producer", on_delete=models.CASCADE, related_name="+", verbose_name=_("收款方"))
    amount_fen = models.BigIntegerField(verbose_name=_("金额（分）"))
    retained = models.BooleanField(default=False, verbose_name=_("留存"))

    class Meta:
        verbose_name = _("日收入汇总")
        verbose_name_plural = _("日收入汇总")
        constraints = [models.UniqueConstraint(fields=["day", "source", "product", "payer", "recipient"],
                                               name="incomeday_key")]
        indexes = [models.Index(fields=["day"]), models.Index(fields=["recipient", "day"])]
