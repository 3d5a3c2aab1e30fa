"""Fulfilment (一件代发) and after-sales: shipments, returns/refunds, complaints, reviews, host pledges.

Routing unit: one `Shipment` per producer per order. Drop shipping means each producer packs and
posts from their own shipping point; two lines of one order from the same producer travel in one
parcel (fewer boxes — the seeds' "包装太大" complaint), while lines from different producers cannot
share a parcel. Each order line belongs to exactly one shipment (`ShipmentItem.line` is one-to-one).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.core.models import TransitionRecord


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("待打包")
    PACKED = "packed", _("已打包")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已签收")
    EXCEPTION = "exception", _("物流异常")
    CANCELLED = "cancelled", _("已取消")


class Carrier(models.TextChoices):
    SF = "sf", _("顺丰速运")
    EMS = "ems", _("中国邮政 EMS")
    YTO = "yto", _("圆通速递")
    ZTO = "zto", _("中通快递")
    STO = "sto", _("申通快递")
    YUNDA = "yunda", _("韵达快递")
    JD = "jd", _("京东物流")
    JT = "jt", _("极兔速递")
    OTHER = "other", _("其他")


class DeliveryConfirmation(models.TextChoices):
    BUYER = "buyer", _("买家确认收货")
    AUTO = "auto", _("超时自动确认")
    STAFF = "staff", _("运营代确认")


class Shipment(models.Model):
    OPEN_STATUSES = (ShipmentStatus.PENDING, ShipmentStatus.PACKED, ShipmentStatus.EXCEPTION)

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments",
                              verbose_name=_("订单"))
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="shipments",
                                 verbose_name=_("发货生产者"))
    status = models.CharField(_("状态"), max_length=12, choices=ShipmentStatus.choices,
                              default=ShipmentStatus.PENDING, editable=False, db_index=True)
    # Snapshot of the producer's shipping point when the order was routed.
    ship_from = models.CharField(_("发货地址"), max_length=200, blank=True)
    carrier = models.CharField(_("快递公司"), max_length=8, choices=Carrier.choices, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=40, blank=True)
    deadline = models.DateTimeField(_("发货截止"), db_index=True)
    # Set once the deadline passes unshipped (or shipping happens after it); kept afterwards, because
    # a late shipment counts toward the producer's record even when it finally goes out.
    late = models.BooleanField(_("超时发货"), default=False, editable=False, db_index=True)
    late_flagged_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("超时标记时间"))
    packed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("打包时间"))
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True, editable=False)
    delivery_confirmation = models.CharField(_("签收方式"), max_length=8, choices=DeliveryConfirmation.choices,
                                             blank=True, editable=False)
    exception_reason = models.CharField(_("异常原因"), max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("发货单")
        verbose_name_plural = _("发货单")
        constraints = [models.UniqueConstraint(fields=["order", "producer"], name="shipment_one_per_producer")]
        indexes = [models.Index(fields=["status", "deadline"], name="shipment_status_deadline")]

    def __str__(self) -> str:
        return f"{self.order_id}-{self.producer_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items", verbose_name=_("包裹"))
    # One-to-one: an order line is routed once, to exactly one shipment.
    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_item", verbose_name=_("订单明细"))
    quantity = models.PositiveIntegerField(verbose_name=_("数量"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("发货明细")
        verbose_name_plural = _("发货明细")

    @property
    def refunded_units(self) -> int:
        """Whole units' worth of money refunded on the line (refunds are amounts: ¥19.95 back of 2 × ¥19.95 is
        one unit; a ¥5 price adjustment is none). The half cent absorbs the rounding of a split discount."""
        line = self.line
        paid = line.paid_amount
        if paid <= 0 or line.refunded_amount <= 0:
            return 0
        return min(self.quantity, int(line.refunded_amount * self.quantity / paid + Decimal("0.005")))

    @property
    def to_ship(self) -> int:
        """What the producer packs: the units ordered less those refunded (pages show the refunded ones
        beside it, so a return after delivery reads "× 1（已退 1 件）", not a parcel that shrank)."""
        return self.quantity - self.refunded_units


class ShipmentTransition(TransitionRecord):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="history", verbose_name=_("包裹"))
    from_status = models.CharField(max_length=12, choices=ShipmentStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=12, choices=ShipmentStatus.choices, verbose_name=_("新状态"))

    class Meta(TransitionRecord.Meta):
        verbose_name = _("发货状态变更")
        verbose_name_plural = _("发货状态变更")


# ---------------------------------------------------------------- after-sales (returns and refunds)


class AfterSalesKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")


class AfterSalesReason(models.TextChoices):
    QUALITY = "quality", _("质量问题")
    DAMAGED = "damaged", _("破损/变质")
    LATE = "late", _("发货/送达太慢")
    WRONG_ITEM = "wrong_item", _("发错货")
    OVER_PACKAGED = "over_packaged", _("包装过大/过度包装")
    NOT_AS_DESCRIBED = "not_as_described", _("与描述不符")
    # Before shipment only, refund only: the units not yet sent are refunded and nothing comes back.
    UNWANTED = "unwanted", _("拍多了/不想要")
    OTHER = "other", _("其他")


class AfterSalesStatus(models.TextChoices):
    REQUESTED = "requested", _("待处理")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("已拒绝")
    REFUNDED = "refunded", _("已退款")


class AfterSalesRequest(models.Model):
    OPEN_STATUSES = (AfterSalesStatus.REQUESTED, AfterSalesStatus.APPROVED)

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="after_sales",
                              verbose_name=_("订单"))
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="after_sales",
                             verbose_name=_("订单行"))
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="after_sales",
                                 verbose_name=_("生产者"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="after_sales",
                              verbose_name=_("买家"))
    kind = models.CharField(_("类型"), max_length=16, choices=AfterSalesKind.choices)
    reason = models.CharField(_("原因"), max_length=20, choices=AfterSalesReason.choices)
    evidence = models.TextField(_("问题描述/凭证"), max_length=1000)
    amount = models.DecimalField(_("申请退款金额"), max_digits=12, decimal_places=2)
    status = models.CharField(_("状态"), max_length=12, choices=AfterSalesStatus.choices,
                              default=AfterSalesStatus.REQUESTED, editable=False, db_index=True)
    decision_note = models.CharField(_("处理意见"), max_length=300, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False, verbose_name=_("处理人"))
    decided_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("处理时间"))
    refunded_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("退款时间"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("售后申请")
        verbose_name_plural = _("售后申请")
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=models.Q(status__in=["requested", "approved"]),
                                    name="aftersales_one_open_per_line"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="aftersales_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_reason_display()} ({self.get_status_display()})"


class AfterSalesTransition(TransitionRecord):
    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="history", verbose_name=_("售后申请"))
    from_status = models.CharField(max_length=12, choices=AfterSalesStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=12, choices=AfterSalesStatus.choices, verbose_name=_("新状态"))

    class Meta:
        verbose_name = _("售后状态变更")
        verbose_name_plural = _("售后状态变更")


class AfterSalesPhoto(models.Model):
    """A photo the buyer attached to an after-sales request (core/images.py: checked by content, upright,
    no metadata). Kept outside MEDIA_ROOT (fulfilment/storage.py): only the buyer and whoever decides the
    request see it, through fulfilment's photo view."""

    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="photos",
                                verbose_name=_("售后申请"))
    image = models.CharField(_("图片"), max_length=200, editable=False)
    thumbnail = models.CharField(_("缩略图"), max_length=200, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("上传时间"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("售后图片")
        verbose_name_plural = _("售后图片")

    def __str__(self) -> str:
        return f"#{self.request_id}/{self.position}"


# ---------------------------------------------------------------- complaints (投诉)


class ComplaintCategory(models.TextChoices):
    QUALITY = "quality", _("产品质量")
    DELIVERY = "delivery", _("物流配送")
    PACKAGING = "packaging", _("包装问题")
    AFTER_SALES = "after_sales", _("售后处理")
    HOST = "host", _("主播言行/虚假宣传")
    OTHER = "other", _("其他")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待受理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已办结")
    DISMISSED = "dismissed", _("不予受理")


class Complaint(models.Model):
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints",
                              verbose_name=_("投诉人"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="complaints",
                              verbose_name=_("订单"))
    line = models.ForeignKey("orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="complaints", verbose_name=_("订单行"))
    producer = models.ForeignKey("producers.Producer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="complaints", verbose_name=_("被投诉生产者"))
    # The county whose operator handles it (scoping); taken from the producer's village.
    region = models.ForeignKey("producers.Region", on_delete=models.PROTECT, related_name="complaints",
                               verbose_name=_("受理县"))
    category = models.CharField(_("类别"), max_length=16, choices=ComplaintCategory.choices)
    text = models.TextField(_("投诉内容"), max_length=2000)
    status = models.CharField(_("状态"), max_length=12, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.OPEN, editable=False, db_index=True)
    resolution = models.CharField(_("处理结果"), max_length=500, blank=True, editable=False)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False, verbose_name=_("经办人"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()} ({self.get_status_display()})"


class ComplaintTransition(TransitionRecord):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="history", verbose_name=_("投诉"))
    from_status = models.CharField(max_length=12, choices=ComplaintStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=12, choices=ComplaintStatus.choices, verbose_name=_("新状态"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("原因"))

    class Meta:
        verbose_name = _("投诉状态变更")
        verbose_name_plural = _("投诉状态变更")


# ---------------------------------------------------------------- reviews


class Review(models.Model):
    # One review per order line, only once that line has been delivered (enforced by the service).
    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="review",
                                verbose_name=_("订单行"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="reviews",
                                verbose_name=_("商品"))
    producer = models.ForeignKey("producers.Producer", on_delete=models.PROTECT, related_name="reviews",
                                 verbose_name=_("生产者"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews",
                              verbose_name=_("买家"))
    rating = models.PositiveSmallIntegerField(_("评分"))
    text = models.TextField(_("评价"), max_length=500, blank=True)
    # Operators may hide abusive text (with a reason); the rating still counts in the producer's record.
    visible = models.BooleanField(_("公开显示"), default=True, editable=False)
    hidden_reason = models.CharField(_("隐藏原因"), max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5),
                                              name="review_rating_1_to_5")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.rating}★"


# ---------------------------------------------------------------- host pledges (先行赔付)


class PledgeFunding(models.TextChoices):
    HOST = "host", _("主播自行赔付")
    PLATFORM_FUND = "platform_fund", _("平台先行赔付基金")


class Pledge(models.Model):
    stream = models.ForeignKey("live.Stream", on_delete=models.PROTECT, related_name="pledges",
                               verbose_name=_("直播"))
    host = models.ForeignKey("live.Host", on_delete=models.PROTECT, related_name="pledges", verbose_name=_("主播"))
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="pledges", verbose_name=_("承诺商品"))
    terms = models.CharField(_("承诺内容"), max_length=300,
                             help_text=_("例如：承诺的硒含量不达标，先行赔付"))
    max_per_claim = models.DecimalField(_("单笔最高赔付"), max_digits=10, decimal_places=2)
    total_cap = models.DecimalField(_("赔付总额上限"), max_digits=12, decimal_places=2, null=True, blank=True)
    funded_by = models.CharField(_("赔付来源"), max_length=16, choices=PledgeFunding.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("主播承诺(先行赔付)")
        verbose_name_plural = _("主播承诺(先行赔付)")
        constraints = [models.CheckConstraint(condition=models.Q(max_per_claim__gt=0),
                                              name="pledge_max_per_claim_positive")]

    def __str__(self) -> str:
        return self.terms


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    UNDER_REVIEW = "under_review", _("审核中")
    UPHELD = "upheld", _("成立")
    REJECTED = "rejected", _("不成立")
    COMPENSATED = "compensated", _("已赔付")


class PledgeClaim(models.Model):
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="claims", verbose_name=_("承诺"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="pledge_claims",
                              verbose_name=_("订单"))
    claimant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pledge_claims",
                                 verbose_name=_("索赔人"))
    text = models.TextField(_("索赔理由"), max_length=1000)
    amount = models.DecimalField(_("索赔金额"), max_digits=10, decimal_places=2)
    status = models.CharField(_("状态"), max_length=14, choices=ClaimStatus.choices,
                              default=ClaimStatus.SUBMITTED, editable=False, db_index=True)
    decision_reason = models.CharField(_("认定理由"), max_length=500, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False, verbose_name=_("处理人"))
    decided_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("处理时间"))
    compensated_amount = models.DecimalField(_("赔付金额"), max_digits=10, decimal_places=2, null=True,
                                             blank=True, editable=False)
    paid_from = models.CharField(_("赔付来源"), max_length=16, choices=PledgeFunding.choices, blank=True,
                                 editable=False)
    compensation_ref = models.CharField(_("赔付凭证号"), max_length=64, blank=True, editable=False)
    compensated_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("赔付时间"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("先行赔付申请")
        verbose_name_plural = _("先行赔付申请")
        constraints = [
            models.UniqueConstraint(fields=["pledge", "order"], name="pledgeclaim_one_per_order"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="pledgeclaim_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_status_display()})"


class PledgeClaimTransition(TransitionRecord):
    claim = models.ForeignKey(PledgeClaim, on_delete=models.CASCADE, related_name="history", verbose_name=_("赔付申请"))
    from_status = models.CharField(max_length=14, choices=ClaimStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=14, choices=ClaimStatus.choices, verbose_name=_("新状态"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("原因"))

    class Meta:
        verbose_name = _("赔付申请状态变更")
        verbose_name_plural = _("赔付申请状态变更")

