"""The supply side: administrative regions, producers, their plots and what each plot yields."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.policy import Scope
from zhunong.core.redaction import mask_all_but_last, mask_phone


class Region(models.Model):
    """A node of the administrative tree: province → city → county → township → village.

    `path` is the chain of ancestor codes ("/37/3702/370281/"), so a region's whole subtree is one
    `path__startswith` query, which is how back-office users are scoped to their county.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县")
        TOWNSHIP = "township", _("乡镇")
        VILLAGE = "village", _("村")

    LEVEL_ORDER = ["province", "city", "county", "township", "village"]

    code = models.CharField(_("区划代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("上级"))
    path = models.CharField(max_length=255, db_index=True, editable=False, verbose_name=_("层级路径"))

    class Meta:
        ordering = ["path"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        return "".join(r.name for r in self.ancestors(include_self=True))

    def ancestors(self, *, include_self: bool = False) -> list[Region]:
        chain: list[Region] = []
        node: Region | None = self if include_self else self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def ancestor_at(self, level: str) -> Region | None:
        for region in self.ancestors(include_self=True):
            if region.level == level:
                return region
        return None

    def is_within(self, other: Region) -> bool:
        return self.path.startswith(other.path)

    def policy_scope(self) -> Scope:
        return Scope(regions=(self,))


class Producer(models.Model):
    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("农户")
        COOPERATIVE = "cooperative", _("合作社")
        ENTERPRISE = "enterprise", _("企业")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.HOUSEHOLD)
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="producers", verbose_name=_("所在村"))
    registered_poor = models.BooleanField(_("建档立卡贫困户"), default=False)
    description = models.TextField(_("简介"), blank=True, max_length=2000)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    payee_name = models.CharField(_("收款人"), max_length=50, blank=True)
    payee_account = models.CharField(_("收款账号"), max_length=40, blank=True)
    shipping_address = models.CharField(_("发货地址"), max_length=200, blank=True)
    members = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="cooperatives",
                                     verbose_name=_("社员农户"))
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_producers",
                                      verbose_name=_("管理人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("生产者")
        verbose_name_plural = _("生产者")

    def __str__(self) -> str:
        return self.name

    @property
    def payee_account_masked(self) -> str:
        return mask_all_but_last(self.payee_account)

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    def policy_scope(self) -> Scope:
        return Scope(regions=(self.village,), producer_ids=(self.pk,))


class Plot(models.Model):
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="plots", verbose_name=_("生产者"))
    name = models.CharField(_("地块名称"), max_length=100)
    area_mu = models.DecimalField(_("面积(亩)"), max_digits=10, decimal_places=2)
    crop = models.CharField(_("作物"), max_length=50)
    variety = models.CharField(_("品种"), max_length=50, blank=True)
    soil_type = models.CharField(_("土壤类型"), max_length=50, blank=True)
    location = models.CharField(_("位置"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("纬度"))
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("经度"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("地块")
        verbose_name_plural = _("地块")

    def __str__(self) -> str:
        return f"{self.producer.name} · {self.name}"

    def policy_scope(self) -> Scope:
        return self.producer.policy_scope()


class HarvestBatch(models.Model):
    class Unit(models.TextChoices):
        JIN = "jin", _("斤")
        KG = "kg", _("千克")
        BOX = "box", _("盒")
        BAG = "bag", _("袋")
        HEAD = "head", _("头")
        PIECE = "piece", _("个")

    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="batches", verbose_name=_("地块"))
    harvested_on = models.DateField(_("采收日期"))
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=8, choices=Unit.choices, default=Unit.JIN)
    grade = models.CharField(_("等级"), max_length=50, blank=True, help_text=_("例如 明前茶、一级"))
    shelf_life_days = models.PositiveIntegerField(_("保质期(天)"), null=True, blank=True)
    lot_number = models.CharField(_("批号"), max_length=40, blank=True)
    # Opaque short code printed on packs and in the QR; never derived from ids or personal data.
    trace_code = models.CharField(_("溯源码"), max_length=16, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-harvested_on", "-id"]
        verbose_name = _("采收批次")
        verbose_name_plural = _("采收批次")

    def __str__(self) -> str:
        return f"{self.plot.crop} {self.harvested_on:%Y-%m-%d} ({self.trace_code})"

    @property
    def producer(self) -> Producer:
        return self.plot.producer

    @property
    def batch_label(self) -> str:
        return self.lot_number or self.trace_code

    def policy_scope(self) -> Scope:
        return self.plot.producer.policy_scope()


class Membership(models.Model):
    """A household's membership of a co-operative, with its dates (the `members` relation is the current
    list; these rows say since when and until when, which income attribution needs)."""

    coop = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="memberships",
                             verbose_name=_("合作社"))
    member = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="coop_memberships",
                               verbose_name=_("社员农户"))
    joined_on = models.DateField(_("入社日期"))
    left_on = models.DateField(_("退社日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("记录时间"))

    class Meta:
        ordering = ["coop_id", "member_id", "joined_on"]
        verbose_name = _("合作社社员")
        verbose_name_plural = _("合作社社员")
        constraints = [
            models.UniqueConstraint(fields=["coop", "member"], condition=models.Q(left_on__isnull=True),
                                    name="membership_one_open_per_member"),
            models.CheckConstraint(condition=models.Q(left_on__isnull=True) | models.Q(left_on__gte=models.F("joined_on")),
                                   name="membership_left_after_joined"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.coop}"

    def active_on(self, day) -> bool:  # noqa: ANN001
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


class ShareScheme(models.Model):
    """How a co-op divides what it is paid among its members, from `effective_from` until its next scheme.

    The co-op chooses; each choice is a new row, so the history of choices stays."""

    class Basis(models.TextChoices):
        BATCH = "batch", _("按供货批次")
        QUANTITY = "quantity", _("按交售数量")
        FIXED = "fixed", _("固定份额")

    coop = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="share_schemes",
                             verbose_name=_("合作社"))
    basis = models.CharField(_("分配方式"), max_length=10, choices=Basis.choices)
    effective_from = models.DateField(_("生效日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("记录时间"))

    class Meta:
        ordering = ["coop_id", "-effective_from"]
        verbose_name = _("收益分配方案")
        verbose_name_plural = _("收益分配方案")
        constraints = [models.UniqueConstraint(fields=["coop", "effective_from"], name="sharescheme_one_per_day")]

    def __str__(self) -> str:
        return f"{self.coop} {self.get_basis_display()} {self.effective_from}"


class FixedShare(models.Model):
    """A member's fixed share under a `fixed` scheme (a weight: shares are divided by their sum)."""

    scheme = models.ForeignKey(ShareScheme, on_delete=models.CASCADE, related_name="fixed_shares", verbose_name=_("分配方案"))
    member = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="+", verbose_name=_("成员"))
    share = models.DecimalField(_("份额"), max_digits=9, decimal_places=4)

    class Meta:
        verbose_name = _("固定分配份额")
        verbose_name_plural = _("固定分配份额")
        ordering = ["scheme_id", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "member"], name="fixedshare_one_per_member"),
            models.CheckConstraint(condition=models.Q(share__gt=0), name="fixedshare_positive"),
        ]


class MemberDelivery(models.Model):
    """Produce a member delivered to the co-op (交售): the weights of a `quantity` scheme."""

    coop = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="member_deliveries",
                             verbose_name=_("合作社"))
    member = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="deliveries_to_coops",
                               verbose_name=_("社员农户"))
    batch = models.ForeignKey(HarvestBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("采收批次"))
    delivered_on = models.DateField(_("交售日期"))
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=8, choices=HarvestBatch.Unit.choices, default=HarvestBatch.Unit.JIN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("记录时间"))

    class Meta:
        ordering = ["coop_id", "delivered_on", "id"]
        verbose_name = _("社员交售")
        verbose_name_plural = _("社员交售")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="memberdelivery_positive")]
