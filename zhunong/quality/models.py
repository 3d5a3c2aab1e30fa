"""Market-regulation sample inspections and the traceability chain (GS1 EPCIS 2.0 events)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.policy import Scope

from .storage import certificate_storage


class Inspection(models.Model):
    class Result(models.TextChoices):
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")

    batch = models.ForeignKey("producers.HarvestBatch", on_delete=models.PROTECT, related_name="inspections",
                              verbose_name=_("批次"))
    sample_code = models.CharField(_("抽样编号"), max_length=40, unique=True)
    lab = models.CharField(_("检测机构"), max_length=100)
    sampled_on = models.DateField(_("抽样日期"))
    result = models.CharField(_("结论"), max_length=8, choices=Result.choices)
    # Kept outside MEDIA_ROOT (storage.certificate_storage) and served only as a download (views.certificate).
    certificate = models.FileField(_("检测报告"), upload_to="certificates/%Y/", blank=True, storage=certificate_storage,
                                   max_length=200)
    notes = models.TextField(_("备注"), blank=True, max_length=2000)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspections",
                                  verbose_name=_("抽检员"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("记录时间"))

    class Meta:
        ordering = ["-sampled_on", "-id"]
        verbose_name = _("抽样检查")
        verbose_name_plural = _("抽样检查")

    def __str__(self) -> str:
        return f"{self.sample_code} {self.get_result_display()}"

    @property
    def passed(self) -> bool:
        return self.result == self.Result.PASS

    def policy_scope(self) -> Scope:
        return self.batch.policy_scope()


class InspectionItem(models.Model):
    """One tested item, e.g. pesticide residue 0.01 mg/kg against a limit of 0.05 mg/kg."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items", verbose_name=_("检测"))
    name = models.CharField(_("检测项目"), max_length=100)
    value = models.DecimalField(_("检测值"), max_digits=14, decimal_places=4)
    limit = models.DecimalField(_("限值"), max_digits=14, decimal_places=4, null=True, blank=True)
    # "max": value must be <= limit (residues); "min": value must be >= limit (e.g. selenium content).
    limit_kind = models.CharField(max_length=4, choices=[("max", "≤"), ("min", "≥")], default="max", verbose_name=_("限值类型"))
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    passed = models.BooleanField(_("合格"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("检测项目")
        verbose_name_plural = _("检测项目")


class TraceEvent(models.Model):
    """One GS1 EPCIS 2.0 event in a batch's chain from plot to buyer."""

    class EventType(models.TextChoices):
        OBJECT = "ObjectEvent", "ObjectEvent"
        TRANSFORMATION = "TransformationEvent", "TransformationEvent"
        AGGREGATION = "AggregationEvent", "AggregationEvent"

    class BizStep(models.TextChoices):
        # CBV 2.0 business steps used by this chain.
        COMMISSIONING = "commissioning", _("采收")
        INSPECTING = "inspecting", _("抽检")
        COMMISSIONING_PROCESS = "transforming", _("加工")
        PACKING = "packing", _("包装")
        SHIPPING = "shipping", _("发货")
        RECEIVING = "receiving", _("签收")

    batch = models.ForeignKey("producers.HarvestBatch", on_delete=models.CASCADE, related_name="trace_events", verbose_name=_("采收批次"))
    event_type = models.CharField(max_length=24, choices=EventType.choices, verbose_name=_("事件类型"))
    biz_step = models.CharField(max_length=24, choices=BizStep.choices, verbose_name=_("业务步骤"))
    action = models.CharField(max_length=8, blank=True, help_text="ADD / OBSERVE / DELETE; empty for TransformationEvent", verbose_name=_("EPCIS 动作"))
    event_time = models.DateTimeField(verbose_name=_("事件时间"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("记录时间"))
    # Where it happened: the village or county, never a household's address.
    region = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("发生地区域"))
    # EPCIS fields that vary by event type (inputs/outputs, child EPCs, quantities, disposition…).
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("事件数据"))
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("检测"))
    # EPCIS eventID (urn:uuid:…): stable across exports, independent of database ids.
    event_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("事件 UUID"))
    # Every batch whose chain includes this event (a transformation has several inputs); always
    # contains `batch` too, so a chain is one query on this relation.
    linked_batches = models.ManyToManyField("producers.HarvestBatch", blank=True, related_name="linked_trace_events", verbose_name=_("关联批次"))
    # Caller's idempotency key (e.g. a fulfilment shipment id); never shown publicly.
    reference = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("参考编号"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("记录人"))

    class Meta:
        ordering = ["event_time", "id"]
        verbose_name = _("溯源事件")
        verbose_name_plural = _("溯源事件")
