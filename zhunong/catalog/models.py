"""What is sold: products, their images, and the listing state machine's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.policy import Scope
from zhunong.core.models import TransitionRecord


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    AWAITING_INSPECTION = "awaiting_inspection", _("待抽检")
    LISTED = "listed", _("已上架")
    DELISTED = "delisted", _("已下架")


class Product(models.Model):
    class Unit(models.TextChoices):
        JIN = "jin", _("斤")
        BOX = "box", _("盒")
        BAG = "bag", _("袋")
        KG = "kg", _("千克")
        BOTTLE = "bottle", _("瓶")
        PIECE = "piece", _("件")

    name = models.CharField(_("品名"), max_length=100)
    description = models.TextField(_("描述"), blank=True, max_length=5000)
    unit = models.CharField(_("单位"), max_length=8, choices=Unit.choices, default=Unit.JIN)
    unit_size = models.CharField(_("规格"), max_length=50, blank=True, help_text=_("例如 5斤装"))
    price = models.DecimalField(_("售价(元)"), max_digits=10, decimal_places=2)
    cost_floor = models.DecimalField(_("成本底价(元)"), max_digits=10, decimal_places=2)
    # A price under the cost floor is allowed only with a recorded reason, and is flagged for the
    # integrity office (below-cost dumping hurts the very farmers the stream is for).
    below_cost_reason = models.CharField(_("低于成本原因"), max_length=300, blank=True)
    origin = models.ForeignKey("producers.Region", on_delete=models.PROTECT, related_name="products",
                               verbose_name=_("产地"))
    producers = models.ManyToManyField("producers.Producer", related_name="products", verbose_name=_("生产者"))
    batches = models.ManyToManyField("producers.HarvestBatch", blank=True, related_name="products",
                                     verbose_name=_("供货批次"))
    stock = models.PositiveIntegerField(_("库存"), default=0)
    gtin = models.CharField(_("GTIN 商品条码"), max_length=14, blank=True, null=True, unique=True)
    status = models.CharField(_("上架状态"), max_length=24, choices=ListingStatus.choices,
                              default=ListingStatus.DRAFT, editable=False, db_index=True)
    featured = models.BooleanField(_("首页推荐"), default=False)
    # Simplified-Chinese, jieba-segmented text of name/description/origin, maintained by services.
    search_text = models.TextField(editable=False, blank=True, verbose_name=_("搜索文本"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["-featured", "id"]
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(condition=models.Q(cost_floor__gte=0), name="product_cost_floor_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_listed(self) -> bool:
        return self.status == ListingStatus.LISTED

    @property
    def below_cost(self) -> bool:
        return self.price < self.cost_floor

    def policy_scope(self) -> Scope:
        # The producers are read only if a rule asks (a manager's grant), not for every check.
        return Scope(regions=(self.origin,),
                     producer_ids=lambda: self.producers.values_list("pk", flat=True))


class ImageStatus(models.TextChoices):
    PROCESSING = "processing", _("处理中")
    READY = "ready", _("已就绪")
    FAILED = "failed", _("处理失败")


class ProductImage(models.Model):
    """A product photo. `image` is the master the platform re-encoded (upright, no metadata, WebP);
    `renditions` lists the sizes made from it (core/images.py, docs/decisions/0025-image-pipeline.md):
    {"webp": [{"w", "h", "path"}...], "jpeg": {"w", "h", "path"}}. The first by position is the cover."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("图片"), upload_to="products/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    # Rows from before the pipeline have no renditions and are shown from `image` as they are.
    status = models.CharField(_("处理状态"), max_length=12, choices=ImageStatus.choices, default=ImageStatus.READY)
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    uploaded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")

    def __str__(self) -> str:
        return self.caption or f"#{self.pk}"

    @property
    def is_ready(self) -> bool:
        return self.status == ImageStatus.READY


class ListingTransition(TransitionRecord):
    """History of the listing state machine: who moved a product where, when and why."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listing_history", verbose_name=_("商品"))
    from_status = models.CharField(max_length=24, choices=ListingStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=24, choices=ListingStatus.choices, verbose_name=_("新状态"))

    class Meta(TransitionRecord.Meta):
        verbose_name = _("上架状态变更")
        verbose_name_plural = _("上架状态变更")


class PriceChange(models.Model):
    """Every price a product has had, so a flash sale can be checked against the 30-day low."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_history", verbose_name=_("商品"))
    price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("价格"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("操作人"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("时间"))

    class Meta:
        verbose_name = _("价格变更")
        verbose_name_plural = _("价格变更")
        ordering = ["at", "id"]
