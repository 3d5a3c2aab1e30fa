"""Models shared by the domain apps: the abstract `TransitionRecord`, and the append-only audit log
(`AuditEntry`, written through core.audit.record_action only)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TransitionRecord(models.Model):
    """One step of a state machine's history: who (None: the system or a media callback), why, when.

    Each app's history model adds the foreign key to its subject and `from_status` / `to_status` with its
    machine's choices; the table of allowed steps lives in core.statemachine.TransitionTable.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("操作人"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("时间"))

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class AppendOnly(Exception):
    """An attempt to change or remove an audit entry: a programming error, never a user's refusal."""


class AuditQuerySet(models.QuerySet):
    """Rows can be added and read; bulk update and delete are refused (the database refuses them too on
    PostgreSQL, by trigger: see migration 0002)."""

    def update(self, **kwargs: object) -> int:
        raise AppendOnly("audit entries are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted")

    def bulk_update(self, *args: object, **kwargs: object) -> int:
        raise AppendOnly("audit entries are never updated")

    def update_or_create(self, *args: object, **kwargs: object) -> object:
        raise AppendOnly("audit entries are never updated")


class AuditEntry(models.Model):
    """One sensitive action: who did what to which object, from where, in which region, before and after.

    Append-only: written by core.audit.record_action, never changed or removed by the code; kept at least
    AUDIT_RETENTION_YEARS (there is no purge path at all). The actor and region are PROTECTed: a user
    or region an entry names cannot be hard-deleted (accounts are anonymised instead).
    """

    class Outcome(models.TextChoices):
        DONE = "done", _("已执行")
        REFUSED = "refused", _("被拒绝")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"), editable=False)
    # The actor's username when the action happened (None actor: the system, a task, a provider callback).
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True, editable=False)
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True, editable=False)
    action = models.CharField(_("操作"), max_length=64, db_index=True, editable=False)
    subject_type = models.CharField(_("对象类型"), max_length=100, blank=True, editable=False)
    subject_id = models.CharField(_("对象编号"), max_length=64, blank=True, editable=False)
    subject_label = models.CharField(_("对象"), max_length=200, blank=True, editable=False)
    region = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("地区"), editable=False)
    before = models.JSONField(_("修改前"), null=True, blank=True, encoder=DjangoJSONEncoder, editable=False)
    after = models.JSONField(_("修改后"), null=True, blank=True, encoder=DjangoJSONEncoder, editable=False)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices, default=Outcome.DONE,
                               editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="core_audit_subject")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or '-'} {self.action} {self.subject_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnly("audit entries are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted")
