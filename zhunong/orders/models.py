"""Orders and their lines. Money is attributed per line to the producer who supplies it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.policy import Scope
from zhunong.core.models import TransitionRecord


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
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("支付时间"))
    ship_to_name = models.CharField(_("收货人"), max_length=50, blank=True)
    ship_to_phone = models.CharField(_("收货电话"), max_length=20, blank=True)
    ship_to_address = models.CharField(_("收货地址"), max_length=200, blank=True)
    coupon = models.ForeignKey("orders.Coupon", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="orders", verbose_name=_("优惠券"))
    # The stock this order holds: which inventory backend took it, under which reservation token.
    inventory_backend = models.CharField(max_length=10, default="db", editable=False, verbose_name=_("库存后端"))
    reservation_token = models.CharField(max_length=40, unique=True, null=True, blank=True, editable=False, verbose_name=_("预留令牌"))
    # The gateway's id of the payment applied to this order (set once, by mark_paid).
    payment_ref = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False, verbose_name=_("支付流水号"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")

    def __str__(self) -> str:
        return self.number

    def policy_scope(self) -> Scope:
        """Where the order sits for permission checks: every line's product origin and producer, its buyer.
        The lines are read only if a rule asks."""
        return Scope(regions=lambda: [line.product.origin for line in self.lines.select_related("product__origin")],
                     producer_ids=lambda: self.lines.values_list("producer_id", flat=True),
                     buyer_user_ids=(self.buyer_id,))


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("订单"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("商品"))
    # Who is paid for this line: the producing household or co-op, never the host.
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("生产者"))
    quantity = models.PositiveIntegerField(verbose_name=_("数量"))
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("单价"))
    line_total = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("小计"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, verbose_name=_("已退款金额"))
    # This line's share of the order discount: the line's paid amount is line_total - discount_share.
    discount_share = models.DecimalField(max_digits=12, decimal_places=2, default=0, verbose_name=_("分摊优惠"))
    flash_sale = models.ForeignKey("orders.FlashSale", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="order_lines", verbose_name=_("秒杀"))

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(refunded_amount__gte=0), name="orderline_refund_nonnegative"),
        ]

    @property
    def paid_amount(self):  # noqa: ANN201
        return self.line_total - self.discount_share

    @property
    def refundable(self):  # noqa: ANN201
        return self.paid_amount - self.refunded_amount


class OrderTransition(TransitionRecord):
    """History of the order state machine: who, when, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history", verbose_name=_("订单"))
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, verbose_name=_("新状态"))
    # e.g. the lines and amounts of a refund request
    details = models.JSONField(default=dict, blank=True, verbose_name=_("详情"))

    class Meta:
        verbose_name = _("订单状态变更")
        verbose_name_plural = _("订单状态变更")


class FlashSaleStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("倒计时")
    LIVE = "live", _("抢购中")
    SOLD_OUT = "sold_out", _("已抢光")
    ENDED = "ended", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class FlashSale(models.Model):
    """A flash sale (秒杀) of one pinned product in one stream.

    Its quantity is carved out of the product's stock when the sale is created; whatever is unsold
    goes back to the product once the sale has ended and its last reservations are resolved (`settled_at`).
    `remaining` is the sale's stock under the database backends; under Redis the live counter is in
    Redis and `remaining` is refreshed by reconciliation.
    """

    stream = models.ForeignKey("live.Stream", on_delete=models.PROTECT, related_name="flash_sales",
                               verbose_name=_("直播"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="flash_sales",
                                verbose_name=_("商品"))
    quantity = models.PositiveIntegerField(_("秒杀数量"))
    remaining = models.PositiveIntegerField(_("剩余"))
    sale_price = models.DecimalField(_("秒杀价"), max_digits=10, decimal_places=2)
    reference_price = models.DecimalField(_("30天最低价"), max_digits=10, decimal_places=2)
    per_buyer_limit = models.PositiveIntegerField(_("每人限购"))
    below_cost_reason = models.CharField(_("低于成本原因"), max_length=300, blank=True)
    starts_at = models.DateTimeField(_("开抢时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"), db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=FlashSaleStatus.choices,
                              default=FlashSaleStatus.SCHEDULED, editable=False, db_index=True)
    sold_out_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("售罄时间"))
    settled_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("结算时间"))
    returned_to_product = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("已退回商品库存"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("秒杀")
        verbose_name_plural = _("秒杀")
        constraints = [
            models.CheckConstraint(condition=models.Q(sale_price__gt=0), name="flashsale_price_positive"),
            models.CheckConstraint(condition=models.Q(remaining__lte=models.F("quantity")),
                                   name="flashsale_remaining_le_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.sale_price}"


class FlashSaleTransition(TransitionRecord):
    sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="history", verbose_name=_("秒杀"))
    from_status = models.CharField(max_length=12, choices=FlashSaleStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=12, choices=FlashSaleStatus.choices, verbose_name=_("新状态"))

    class Meta:
        verbose_name = _("秒杀状态变更")
        verbose_name_plural = _("秒杀状态变更")


class Coupon(models.Model):
    """An in-room coupon (优惠券) released by the host: one claim per buyer, a fixed number in total."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("满减")
        PERCENT = "percent", _("折扣")

    stream = models.ForeignKey("live.Stream", on_delete=models.PROTECT, related_name="coupons", verbose_name=_("直播场次"))
    code = models.CharField(_("券码"), max_length=16, unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    # Yuan off for `amount`; percent off (1-90) for `percent`.
    value = models.DecimalField(_("面额"), max_digits=10, decimal_places=2)
    min_spend = models.DecimalField(_("最低消费"), max_digits=10, decimal_places=2, default=0)
    # Recorded when the host releases it: only then may it take a line below the product's cost floor
    # (orders/coupons.py), and each such order raises a below-cost integrity flag.
    below_cost_reason = models.CharField(_("低于成本原因"), max_length=300, blank=True)
    total_quantity = models.PositiveIntegerField(_("发放数量"))
    remaining = models.PositiveIntegerField(_("剩余"))
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("直播间优惠券")
        verbose_name_plural = _("直播间优惠券")
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(condition=models.Q(remaining__lte=models.F("total_quantity")),
                                   name="coupon_remaining_le_total"),
        ]

    def __str__(self) -> str:
        return self.code


class CouponClaim(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="claims", verbose_name=_("优惠券"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coupon_claims", verbose_name=_("买家"))
    claimed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("领取时间"))
    # The order that used it; cleared again when that order is cancelled before payment.
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon_claim", verbose_name=_("订单"))

    class Meta:
        verbose_name = _("优惠券领取")
        verbose_name_plural = _("优惠券领取")
        ordering = ["-claimed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["coupon", "buyer"], name="couponclaim_one_per_buyer")]


class ReservationState(models.TextChoices):
    HELD = "held", _("占用中")
    COMMITTED = "committed", _("已成交")
    RELEASED = "released", _("已释放")


class InventoryReservation(models.Model):
    """One reservation token: the database's record of stock taken, for every backend.

    A token is released or committed at most once (a conditional update of `state`), which is what makes
    returning stock exactly-once even when expiry, cancellation and reconciliation race.
    """

    token = models.CharField(max_length=40, unique=True, verbose_name=_("令牌"))
    backend = models.CharField(max_length=10, verbose_name=_("库存后端"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("买家"))
    state = models.CharField(max_length=10, choices=ReservationState.choices, default=ReservationState.HELD,
                             db_index=True, verbose_name=_("状态"))
    reason = models.CharField(max_length=100, blank=True, verbose_name=_("原因"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("处理完成时间"))

    class Meta:
        verbose_name = _("库存预留")
        verbose_name_plural = _("库存预留")
        ordering = ["id"]


class ReservationItem(models.Model):
    """What a reservation took from one pool: "product:<id>", "sale:<id>" or "coupon:<id>"."""

    reservation = models.ForeignKey(InventoryReservation, on_delete=models.CASCADE, related_name="items", verbose_name=_("库存预留"))
    pool = models.CharField(max_length=40, db_index=True, verbose_name=_("库存池"))
    quantity = models.PositiveIntegerField(verbose_name=_("数量"))
    # Counted against the buyer's limit for this pool (flash sales, coupons).
    limited = models.BooleanField(default=False, verbose_name=_("限购"))

    class Meta:
        verbose_name = _("库存预留明细")
        verbose_name_plural = _("库存预留明细")
        ordering = ["id"]


class BuyerCount(models.Model):
    """How many units of a limited pool (a flash sale, a coupon) a buyer holds, for the database backends."""

    pool = models.CharField(max_length=40, verbose_name=_("库存池"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("买家"))
    quantity = models.PositiveIntegerField(default=0, verbose_name=_("数量"))

    class Meta:
        verbose_name = _("买家已购数量")
        verbose_name_plural = _("买家已购数量")
        constraints = [models.UniqueConstraint(fields=["pool", "buyer"], name="buyercount_pool_buyer")]


class IdempotencyRecord(models.Model):
    """The first response to an Idempotency-Key, replayed for every retry with the same key and body."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("买家"))
    key = models.CharField(max_length=255, verbose_name=_("幂等键"))
    request_hash = models.CharField(max_length=64, verbose_name=_("请求摘要"))
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+", verbose_name=_("订单"))
    response = models.JSONField(default=dict, verbose_name=_("响应"))  # the 201 body as first sent
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [models.UniqueConstraint(fields=["buyer", "key"], name="idempotency_buyer_key")]


class ShippingAddress(models.Model):
    """An address in a buyer's address book (收货地址簿); at most one is the default, which checkout uses.

    Each order keeps its own copy (Order.ship_to_*), so editing or deleting an address never moves a
    parcel that is already on its way. Written only through `orders.addresses`.
    """

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="shipping_addresses", verbose_name=_("买家"))
    name = models.CharField(_("收货人"), max_length=50)
    phone = models.CharField(_("收货电话"), max_length=20)
    address = models.CharField(_("收货地址"), max_length=200)
    is_default = models.BooleanField(_("默认地址"), default=False)
    created_at = models.DateTimeField(auto_now_add=True, null=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["-is_default", "-updated_at", "-id"]
        verbose_name = _("收货地址")
        verbose_name_plural = _("收货地址")
        constraints = [models.UniqueConstraint(fields=["buyer"], condition=models.Q(is_default=True),
                                               name="shippingaddress_one_default_per_buyer")]

    def __str__(self) -> str:
        return f"{self.name} {self.address}"


class CartItem(models.Model):
    """One product in a signed-in buyer's cart (购物车), at the storefront price. Visitors keep theirs in the
    session until they sign in (orders/cart.py merges it). Written only through `orders.cart`."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items",
                              verbose_name=_("买家"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("商品"))
    quantity = models.PositiveIntegerField(_("数量"))
    added_at = models.DateTimeField(auto_now_add=True, verbose_name=_("加入时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("购物车商品")
        verbose_name_plural = _("购物车商品")
        constraints = [
            models.UniqueConstraint(fields=["buyer", "product"], name="cartitem_buyer_product"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="cartitem_quantity_positive"),
        ]
