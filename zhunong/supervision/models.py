"""Integrity supervision: what the county's discipline/integrity office must look at."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.core.integrity import ConcernKind


class IntegrityFlag(models.Model):
    Kind = ConcernKind  # the kinds are core's, so lower apps can name them (core/integrity.py)

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        CONFIRMED = "confirmed", _("属实")
        DISMISSED = "dismissed", _("不属实")

    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    summary = models.CharField(_("摘要"), max_length=300)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    region = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("区域"))
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("对象类型"))
    subject_id = models.CharField(max_length=40, blank=True, verbose_name=_("对象编号"))
    subject = GenericForeignKey("subject_type", "subject_id")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("提出人"))
    # Detector flags (docs/supervision.md): which detector, how sure (0..1), the stream it is about, and
    # the evidence: {"order_ids": [...], "session_ids": [...], "account_ids": [...], "why": ..., ...}.
    detector = models.CharField(_("检测器"), max_length=40, blank=True)
    score = models.FloatField(_("可疑度"), null=True, blank=True)
    stream = models.ForeignKey("live.Stream", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("直播场次"))
    evidence = models.JSONField(_("证据"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("廉洁监督线索")
        verbose_name_plural = _("廉洁监督线索")

    def __str__(self) -> str:
        return f"[{self.get_kind_display()}] {self.summary}"


class FlagReview(models.Model):
    """The office's verdict on one flag: confirmed (属实) or dismissed (不属实), with the reviewer's reason.

    One per flag (a second review is refused, and the database's unique key backs the rule), and never
    changed afterwards: `save()` of an existing row and `delete()` raise, and the admin is read-only.
    """

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("属实")
        DISMISSED = "dismissed", _("不属实")

    flag = models.OneToOneField(IntegrityFlag, on_delete=models.PROTECT, related_name="review",
                                verbose_name=_("线索"))
    decision = models.CharField(_("结论"), max_length=12, choices=Decision.choices)
    reason = models.TextField(_("理由"), max_length=2000)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("复核人"))
    reviewed_at = models.DateTimeField(_("复核时间"), auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        verbose_name = _("线索复核")
        verbose_name_plural = _("线索复核")

    def __str__(self) -> str:
        return f"{self.flag_id}: {self.get_decision_display()}"

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("a flag review is kept as it was given and cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise ValueError("a flag review cannot be deleted")
