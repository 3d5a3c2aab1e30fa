"""Orders and their lines. Money is attributed per line to the producer who supplies it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    RESERVED = "reserved", _("待支付")
    PAID = "paid", _("已支付")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已签收")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")
    REFUND_REQUESTED = "refund_requested", _("退款中")
    REFUNDED = "refunded", _("已退款")


class Order(models.Model):
    number = models.CharField(_("订单号"), max_length=24, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders",
                              verbose_name=_("买家"))
    stream = models.ForeignKey("live.Stream", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="orders", verbose_name=_("来源直播"))
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.RESERVED,
                              editable=False, db_index=True)
    subtotal = models.DecimalField(_("商品金额"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("优惠"), max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(_("应付"), max_digits=12, decimal_places=2)
    refunded_total = models.DecimalField(_("已退款"), max_digits=12, decimal_places=2, default=0)
    expires_at = models.DateTimeField(_("支付截止"), null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    ship_to_name = models.CharField(_("收货人"), max_length=50, blank=True)
    ship_to_phone = models.CharField(_("收货电话"), max_length=20, blank=True)
    ship_to_address = models.CharField(_("收货地址"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines")
    # Who is paid for this line: the producing household or co-op, never the host.
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orderline_quantity_positive")]


class OrderTransition(models.Model):
    """History of the order state machine: who, when, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
