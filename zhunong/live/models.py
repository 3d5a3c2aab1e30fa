"""Hosts, county channels and streams. The real-time room is built on these (consumers, hub)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.Model):
    """A county's official channel (官方账号, 统一标识): one per county, many hosts under it (矩阵)."""

    county = models.OneToOneField("producers.Region", on_delete=models.PROTECT, related_name="channel",
                                  verbose_name=_("县"))
    name = models.CharField(_("频道名称"), max_length=100)
    description = models.TextField(_("简介"), blank=True, max_length=2000)
    logo = models.ImageField(_("标识"), upload_to="channels/", blank=True)
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="followed_channels")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("官方频道")
        verbose_name_plural = _("官方频道")

    def __str__(self) -> str:
        return self.name


class Host(models.Model):
    class Kind(models.TextChoices):
        COUNTY_HEAD = "county_head", _("县长/副县长")
        TOWNSHIP_OFFICIAL = "township_official", _("乡镇干部")
        FIRST_SECRETARY = "first_secretary", _("驻村第一书记")
        PUBLIC_SERVANT = "public_servant", _("其他公职人员")
        VILLAGER = "villager", _("村民主播")
        RETURNEE = "returnee", _("返乡大学生")
        COOP_STAFF = "coop_staff", _("合作社员工")
        PROFESSIONAL = "professional", _("专业主播")

    PUBLIC_SERVANT_KINDS = {Kind.COUNTY_HEAD, Kind.TOWNSHIP_OFFICIAL, Kind.FIRST_SECRETARY, Kind.PUBLIC_SERVANT}

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="host_profile")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="hosts", verbose_name=_("所属频道"))
    kind = models.CharField(_("主播类型"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("职务/身份"), max_length=100, blank=True, help_text=_("例如 副县长、驻村第一书记"))
    # Public servants take no pay, tips or gifts (公益直播): drives the no-payment rules everywhere.
    is_public_servant = models.BooleanField(_("公职人员"), default=False)
    bio = models.TextField(_("简介"), blank=True, max_length=2000)
    verified_at = models.DateTimeField(_("实名认证时间"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("认证人"))
    verification_method = models.CharField(_("认证方式"), max_length=100, blank=True)
    trained_at = models.DateField(_("培训结业"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("主播")
        verbose_name_plural = _("主播")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class StreamStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("预告")
    LIVE = "live", _("直播中")
    ENDED = "ended", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Stream(models.Model):
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("介绍"), blank=True, max_length=2000)
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="streams", verbose_name=_("主播"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="streams", verbose_name=_("频道"))
    planned_start = models.DateTimeField(_("计划开始"))
    planned_end = models.DateTimeField(_("计划结束"))
    status = models.CharField(_("状态"), max_length=16, choices=StreamStatus.choices,
                              default=StreamStatus.SCHEDULED, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="streams",
                                      verbose_name=_("带货商品"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["planned_start", "id"]
        verbose_name = _("直播")
        verbose_name_plural = _("直播")

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.status == StreamStatus.LIVE
