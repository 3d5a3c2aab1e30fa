"""Payments: sessions with a provider, the webhook events received, refunds, and the producers' ledger.

The sandbox gateway's own records (`Sandbox*`) stand for the provider's side of the wire: the platform
never reads them directly, only through the provider interface (zhunong.payments.providers).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待支付")
        PAID = "paid", _("已支付")
        EXPIRED = "expired", _("已过期")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payment_sessions", verbose_name=_("订单"))
    provider = models.CharField(max_length=20, verbose_name=_("支付渠道"))
    session_ref = models.CharField(max_length=64, unique=True, verbose_name=_("会话编号"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("金额"))
    pay_url = models.CharField(max_length=300, verbose_name=_("支付链接"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True, verbose_name=_("状态"))
    payment_ref = models.CharField(max_length=64, blank=True, verbose_name=_("支付流水号"))
    expires_at = models.DateTimeField(verbose_name=_("过期时间"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    # When the platform last asked the provider about this session (reconciliation).
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("核对时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("支付会话")
        verbose_name_plural = _("支付会话")

    def __str__(self) -> str:
        # Shown by the admin and the audit log: never Django's English "PaymentSession object (1)".
        return _("支付会话 %(ref)s") % {"ref": self.session_ref}


class PaymentEvent(models.Model):
    """Every webhook event the platform accepted (signature valid), applied at most once."""

    provider = models.CharField(max_length=20, verbose_name=_("支付渠道"))
    event_id = models.CharField(max_length=64, verbose_name=_("事件编号"))
    type = models.CharField(max_length=40, verbose_name=_("事件类型"))
    payload = models.JSONField(verbose_name=_("数据"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("接收时间"))
    deliveries = models.PositiveIntegerField(default=1, verbose_name=_("投递次数"))
    outcome = models.CharField(max_length=40, blank=True, verbose_name=_("处理结果"))

    class Meta:
        verbose_name = _("支付事件")
        verbose_name_plural = _("支付事件")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="paymentevent_unique")]

    def __str__(self) -> str:
        return _("支付事件 %(ref)s") % {"ref": self.event_id}


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退款")
        FAILED = "failed", _("失败")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("订单"))
    # The gateway payment refunded: the order's payment, or money that arrived for an order it could not
    # pay any more (expired, already paid) and goes straight back ("unapplied").
    payment_ref = models.CharField(max_length=64, verbose_name=_("支付流水号"))
    unapplied = models.BooleanField(default=False, verbose_name=_("未入账"))
    # Our idempotency reference with the provider: retries never refund twice.
    reference = models.CharField(max_length=40, unique=True, verbose_name=_("参考编号"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("金额"))
    lines = models.JSONField(default=dict, verbose_name=_("退款明细"))  # {order_line_id: "amount"}
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True, verbose_name=_("状态"))
    provider_ref = models.CharField(max_length=64, blank=True, verbose_name=_("渠道退款编号"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("尝试次数"))
    # The provider's last refusal or failure, for the operator who must finish the refund by hand.
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("最近错误"))
    # When the retries ran out: an integrity flag was raised and the county operator's page lists it.
    escalated_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("升级时间"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("完成时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return _("退款 %(ref)s（%(amount)s 元）") % {"ref": self.reference, "amount": self.amount}


class LedgerEntry(models.Model):
    """Money owed to a producer or co-op, per order line. There is no host column: hosts are never paid."""

    class Kind(models.TextChoices):
        SALE = "sale", _("销售收入")
        REFUND = "refund", _("退款冲减")

    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("生产者"))
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("订单明细"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("记账类型"))
    # Positive for sales, negative for refunds; a producer's balance is the sum.
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("金额"))
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("退款"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("生产者账目")
        verbose_name_plural = _("生产者账目")
        constraints = [
            # One sale entry per line: paying twice can never credit twice.
            models.UniqueConstraint(fields=["order_line"], condition=models.Q(kind="sale"),
                                    name="ledger_one_sale_per_line"),
        ]

    def __str__(self) -> str:
        return _("%(kind)s %(amount)s 元") % {"kind": self.get_kind_display(), "amount": self.amount}


class SandboxPayment(models.Model):
    """The sandbox gateway's record of a checkout session (the provider's side)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待支付")
        SUCCEEDED = "succeeded", _("已支付")
        EXPIRED = "expired", _("已过期")

    session_ref = models.CharField(max_length=64, unique=True, verbose_name=_("会话编号"))
    merchant_reference = models.CharField(max_length=64, verbose_name=_("商户订单号"))  # the platform's order number
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("金额"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("状态"))
    payment_ref = models.CharField(max_length=64, blank=True, verbose_name=_("支付流水号"))
    notify_url = models.CharField(max_length=300, verbose_name=_("通知链接"))
    return_url = models.CharField(max_length=300, blank=True, verbose_name=_("返回链接"))
    expires_at = models.DateTimeField(verbose_name=_("过期时间"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("支付时间"))

    class Meta:
        verbose_name = _("沙箱支付")
        verbose_name_plural = _("沙箱支付")

    def __str__(self) -> str:
        return _("沙箱支付 %(ref)s") % {"ref": self.session_ref}


class SandboxRefund(models.Model):
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("支付"))
    refund_ref = models.CharField(max_length=64, unique=True, verbose_name=_("退款编号"))
    merchant_reference = models.CharField(max_length=40, unique=True, verbose_name=_("商户订单号"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("金额"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("沙箱退款")
        verbose_name_plural = _("沙箱退款")

    def __str__(self) -> str:
        return _("沙箱退款 %(ref)s") % {"ref": self.refund_ref}


class SandboxWebhook(models.Model):
    """An event the sandbox gateway must deliver (late, twice, out of order), with its delivery log."""

    event_id = models.CharField(max_length=64, verbose_name=_("事件编号"))
    type = models.CharField(max_length=40, verbose_name=_("事件类型"))
    body = models.TextField(verbose_name=_("内容"))
    url = models.CharField(max_length=300, verbose_name=_("目标链接"))
    send_after = models.DateTimeField(db_index=True, verbose_name=_("发送时间不早于"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("尝试次数"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("送达时间"))
    last_status = models.IntegerField(null=True, blank=True, verbose_name=_("最近状态码"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("沙箱回调")
        verbose_name_plural = _("沙箱回调")
        ordering = ["send_after", "id"]

    def __str__(self) -> str:
        return _("沙箱回调 %(ref)s") % {"ref": self.event_id}
