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

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payment_sessions")
    provider = models.CharField(max_length=20)
    session_ref = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    pay_url = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    payment_ref = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When the platform last asked the provider about this session (reconciliation).
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("支付会话")
        verbose_name_plural = _("支付会话")


class PaymentEvent(models.Model):
    """Every webhook event the platform accepted (signature valid), applied at most once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=64)
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="paymentevent_unique")]


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退款")
        FAILED = "failed", _("失败")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    # The gateway payment refunded: the order's payment, or money that arrived for an order it could not
    # pay any more (expired, already paid) and goes straight back ("unapplied").
    payment_ref = models.CharField(max_length=64)
    unapplied = models.BooleanField(default=False)
    # Our idempotency reference with the provider: retries never refund twice.
    reference = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    lines = models.JSONField(default=dict)  # {order_line_id: "amount"}
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The provider's last refusal or failure, for the operator who must finish the refund by hand.
    last_error = models.CharField(max_length=200, blank=True)
    # When the retries ran out: an integrity flag was raised and the county operator's page lists it.
    escalated_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]


class LedgerEntry(models.Model):
    """Money owed to a producer or co-op, per order line. There is no host column: hosts are never paid."""

    class Kind(models.TextChoices):
        SALE = "sale", _("销售收入")
        REFUND = "refund", _("退款冲减")

    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="ledger_entries")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Positive for sales, negative for refunds; a producer's balance is the sum.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("生产者账目")
        verbose_name_plural = _("生产者账目")
        constraints = [
            # One sale entry per line: paying twice can never credit twice.
            models.UniqueConstraint(fields=["order_line"], condition=models.Q(kind="sale"),
                                    name="ledger_one_sale_per_line"),
        ]


class SandboxPayment(models.Model):
    """The sandbox gateway's record of a checkout session (the provider's side)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待支付")
        SUCCEEDED = "succeeded", _("已支付")
        EXPIRED = "expired", _("已过期")

    session_ref = models.CharField(max_length=64, unique=True)
    merchant_reference = models.CharField(max_length=64)  # the platform's order number
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment_ref = models.CharField(max_length=64, blank=True)
    notify_url = models.CharField(max_length=300)
    return_url = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)


class SandboxRefund(models.Model):
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds")
    refund_ref = models.CharField(max_length=64, unique=True)
    merchant_reference = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxWebhook(models.Model):
    """An event the sandbox gateway must deliver (late, twice, out of order), with its delivery log."""

    event_id = models.CharField(max_length=64)
    type = models.CharField(max_length=40)
    body = models.TextField()
    url = models.CharField(max_length=300)
    send_after = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["send_after", "id"]
