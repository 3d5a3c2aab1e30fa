"""Follows of hosts, in-site notifications and their deliveries, channel preferences, the SMS sandbox.

Channel follows are live's (`Channel.followers`); a host follow is kept here. One Notification per (event,
user): `event_key` names the event ("order:12:paid"); one Delivery per (notification, channel), so each
message is sent at most once per event, user and channel whatever the retries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import Channel, Kind


class HostFollow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="host_follows", verbose_name=_("关注者"))
    host = models.ForeignKey("live.Host", on_delete=models.CASCADE, related_name="follows",
                             verbose_name=_("主播"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("关注的主播")
        verbose_name_plural = _("关注的主播")
        constraints = [models.UniqueConstraint(fields=["user", "host"], name="notifications_one_host_follow")]


class StreamReminder(models.Model):
    """预约: a viewer asked to be reminded of one scheduled stream (REMINDER_LEAD_MINUTES before its start and
    when it goes live), without following its host or channel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stream_reminders",
                             verbose_name=_("用户"))
    stream = models.ForeignKey("live.Stream", on_delete=models.CASCADE, related_name="reminders",
                               verbose_name=_("直播"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("直播预约")
        verbose_name_plural = _("直播预约")
        constraints = [models.UniqueConstraint(fields=["user", "stream"], name="notifications_one_reminder")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.stream_id}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("用户"))
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    event_key = models.CharField(max_length=100, verbose_name=_("事件键"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(max_length=200, blank=True, verbose_name=_("链接"))
    # Shown in the centre (the user kept the in-site channel for this kind).
    in_site = models.BooleanField(default=True, verbose_name=_("站内显示"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [models.UniqueConstraint(fields=["event_key", "user"], name="notifications_once_per_event")]
        indexes = [models.Index(fields=["user", "read_at"], name="notifications_unread")]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One notification over one channel. pending → sending → sent; a failure goes back to failed and is
    retried; a delivery left in `sending` (the worker died mid-send) is not retried: at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")
        SKIPPED = "skipped", _("无法送达")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("通知"))
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("尝试次数"))
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("最近错误"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("发送时间"))

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [models.UniqueConstraint(fields=["notification", "channel"],
                                               name="notifications_once_per_channel")]


class NotificationPreference(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences", verbose_name=_("用户"))
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    channels = models.JSONField(_("渠道"), default=list)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notifications_one_preference")]


class SandboxSms(models.Model):
    """What the sandbox SMS provider 'sent': the development and test stand-in for an SMS gateway."""

    phone = models.CharField(max_length=20, verbose_name=_("手机号"))
    text = models.CharField(max_length=500, verbose_name=_("短信内容"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=_("发送时间"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("短信（沙箱）")
        verbose_name_plural = _("短信（沙箱）")
