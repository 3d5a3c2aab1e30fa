"""Hosts, county channels and streams. The real-time room is built on these (consumers, hub)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.policy import Scope
from zhunong.core.models import TransitionRecord


class Channel(models.Model):
    """A county's official channel (官方账号, 统一标识): one per county, many hosts under it (矩阵)."""

    county = models.OneToOneField("producers.Region", on_delete=models.PROTECT, related_name="channel",
                                  verbose_name=_("县"))
    name = models.CharField(_("频道名称"), max_length=100)
    description = models.TextField(_("简介"), blank=True, max_length=2000)
    logo = models.ImageField(_("标识"), upload_to="channels/", blank=True)
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="followed_channels", verbose_name=_("关注者"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("官方频道")
        verbose_name_plural = _("官方频道")

    def __str__(self) -> str:
        return self.name

    def policy_scope(self) -> Scope:
        # Lazy: a platform admin's check needs no query.
        return Scope(regions=lambda: (self.county,))


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

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="host_profile", verbose_name=_("用户"))
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

    def policy_scope(self) -> Scope:
        return Scope(regions=lambda: (self.channel.county,))

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def verification_method_label(self) -> str:
        labels = dict(HostVerification.Method.choices)
        return str(labels.get(self.verification_method, self.verification_method))


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
    started_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("开始时间"))
    ended_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("结束时间"))
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="streams",
                                      verbose_name=_("带货商品"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    # Room switches, changed by the host or an operator during the stream (services only).
    # 0 = off; otherwise one chat message per user per this many seconds.
    slow_mode_seconds = models.PositiveIntegerField(_("慢速模式(秒)"), default=0, editable=False)
    # 0 = off; otherwise accounts younger than this many minutes may watch but not chat (against bot armies).
    established_minutes = models.PositiveIntegerField(_("仅限注册满(分钟)"), default=0, editable=False)
    like_total = models.PositiveBigIntegerField(_("点赞总数"), default=0, editable=False)
    records_purged_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("记录清除时间"))

    class Meta:
        ordering = ["planned_start", "id"]
        verbose_name = _("直播")
        verbose_name_plural = _("直播")

    def __str__(self) -> str:
        return self.title

    def policy_scope(self) -> Scope:
        """The channel's county, and the host (who runs their own stream's room whatever their roles)."""
        return Scope(regions=lambda: (self.channel.county,), host_user_ids=lambda: (self.host.user_id,))

    @property
    def is_live(self) -> bool:
        return self.status == StreamStatus.LIVE


# --- Everything below extends the original three models; each record keeps its stream and time so a
# --- stream can be audited or replayed afterwards (kept RECORD_RETENTION_DAYS, then purged).


class HostVerification(models.Model):
    """Each identity check (or revocation) of a host: who did it, when, and how."""

    class Method(models.TextChoices):
        ID_CARD_IN_PERSON = "id_card_in_person", _("身份证现场核验")
        GOV_REAL_NAME = "gov_real_name", _("政务平台实名核验")
        WORK_UNIT_LETTER = "work_unit_letter", _("单位介绍信")
        VIDEO_CALL = "video_call", _("视频面签")

    class Action(models.TextChoices):
        VERIFIED = "verified", _("认证通过")
        REVOKED = "revoked", _("撤销认证")
        IDENTITY = "identity", _("登记实名信息")

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="verifications", verbose_name=_("主播"))
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    method = models.CharField(_("认证方式"), max_length=24, choices=Method.choices, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    # The ID number this record is about, masked (the identity on file when it was made).
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=18, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("操作人"))
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("主播认证记录")
        verbose_name_plural = _("主播认证记录")


class StreamTransition(TransitionRecord):
    """History of the stream state machine: who moved a stream where, when and why."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="history", verbose_name=_("直播场次"))
    from_status = models.CharField(max_length=16, choices=StreamStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=16, choices=StreamStatus.choices, verbose_name=_("新状态"))

    class Meta(TransitionRecord.Meta):
        verbose_name = _("直播状态变更")
        verbose_name_plural = _("直播状态变更")


class ChatMessage(models.Model):
    class Status(models.TextChoices):
        SHOWN = "shown", _("已显示")
        BLOCKED = "blocked", _("敏感词拦截")
        DELETED = "deleted", _("已删除")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="chat_messages", verbose_name=_("直播场次"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("用户"))
    user_name = models.CharField(_("昵称"), max_length=50)
    # What the room showed (links removed, masked words starred) and, for the audit, what was sent.
    text = models.CharField(_("内容"), max_length=500)
    original = models.CharField(_("原文"), max_length=500)
    is_host = models.BooleanField(_("主播回复"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SHOWN)
    filter_hits = models.JSONField(_("命中敏感词"), default=list, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("删除人"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("删除时间"))
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["stream", "created_at"])]
        verbose_name = _("弹幕")
        verbose_name_plural = _("弹幕")

    def __str__(self) -> str:
        return f"{self.user_name}: {self.text[:40]}"


class Pin(models.Model):
    """A product explained (讲解) on screen from pinned_at to unpinned_at; replays turn these into chapters."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="pins", verbose_name=_("直播场次"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="pins", verbose_name=_("商品"))
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("讲解人"))
    pinned_at = models.DateTimeField(db_index=True, verbose_name=_("上架讲解时间"))
    unpinned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("取消讲解时间"))
    unpinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("取消讲解人"))

    class Meta:
        ordering = ["pinned_at", "id"]
        verbose_name = _("讲解商品")
        verbose_name_plural = _("讲解商品")
        constraints = [
            # At most one current pin per stream.
            models.UniqueConstraint(fields=["stream"], condition=models.Q(unpinned_at__isnull=True),
                                    name="live_pin_one_current_per_stream"),
        ]


class Announcement(models.Model):
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="announcements", verbose_name=_("直播场次"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("发布人"))
    text = models.CharField(_("公告"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("直播间公告")
        verbose_name_plural = _("直播间公告")


class RoomRestriction(models.Model):
    """A mute (until a time) or a ban (for the rest of the stream) of one user in one room."""

    class Kind(models.TextChoices):
        MUTE = "mute", _("禁言")
        BAN = "ban", _("踢出并禁止进入")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="restrictions", verbose_name=_("直播场次"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("限制类型"))
    until = models.DateTimeField(null=True, blank=True, verbose_name=_("截止时间"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("解除时间"))
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("解除人"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("禁言/封禁")
        verbose_name_plural = _("禁言/封禁")


class ModerationAction(models.Model):
    """The moderation log: every action with who (None = the system) and why."""

    class Action(models.TextChoices):
        MUTE = "mute", _("禁言")
        UNMUTE = "unmute", _("解除禁言")
        BAN = "ban", _("封禁")
        UNBAN = "unban", _("解除封禁")
        DELETE_MESSAGE = "delete_message", _("删除弹幕")
        SLOW_MODE = "slow_mode", _("慢速模式")
        ESTABLISHED_ONLY = "established_only", _("仅老用户发言")
        END_STREAM = "end_stream", _("结束直播")
        AUTO_MUTE = "auto_mute", _("刷屏自动禁言")
        BLOCK_MESSAGE = "block_message", _("敏感词拦截")
        HANDLE_REPORT = "handle_report", _("处理举报")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="moderation_log", verbose_name=_("直播场次"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    target_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("对象"))
    message = models.ForeignKey(ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("聊天消息"))
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True, verbose_name=_("详情"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("管理记录")
        verbose_name_plural = _("管理记录")


class Report(models.Model):
    class Reason(models.TextChoices):
        ABUSE = "abuse", _("辱骂/骚扰")
        FRAUD = "fraud", _("诈骗/私下交易")
        SPAM = "spam", _("刷屏/广告")
        FALSE_CLAIM = "false_claim", _("虚假宣传")
        ILLEGAL = "illegal", _("违法违规")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACTIONED = "actioned", _("已处理")
        DISMISSED = "dismissed", _("不成立")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="reports", verbose_name=_("直播场次"))
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("举报人"))
    message = models.ForeignKey(ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", verbose_name=_("聊天消息"))
    target_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("被举报用户"))
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("处理人"))
    handled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("处理时间"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("举报")
        verbose_name_plural = _("举报")


class SensitiveWord(models.Model):
    """The editable word list behind the room's filter (Aho-Corasick, see filtering.py)."""

    class Action(models.TextChoices):
        MASK = "mask", _("打码显示")
        BLOCK = "block", _("整条拦截")

    word = models.CharField(_("敏感词"), max_length=50, unique=True)
    # Simplified, lower-case, symbols and spaces removed: what the automaton matches.
    normalized = models.CharField(max_length=50, editable=False, db_index=True, verbose_name=_("规范化文本"))
    action = models.CharField(_("处理方式"), max_length=8, choices=Action.choices, default=Action.MASK)
    category = models.CharField(_("类别"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False, verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))

    class Meta:
        ordering = ["word"]
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")

    def __str__(self) -> str:
        return self.word


class ViewerSession(models.Model):
    """A distinct viewer of a stream (a logged-in user, or an anonymous browser id), first and last seen.

    Reconnects reuse the same row, so the count of rows is the stream's honest number of viewers.
    """

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="viewer_sessions", verbose_name=_("直播场次"))
    viewer_key = models.CharField(max_length=80, verbose_name=_("观众标识"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("用户"))
    first_seen = models.DateTimeField(verbose_name=_("首次进入"))
    last_seen = models.DateTimeField(verbose_name=_("最近在线"))

    class Meta:
        ordering = ["first_seen", "id"]
        verbose_name = _("观众")
        verbose_name_plural = _("观众")
        constraints = [models.UniqueConstraint(fields=["stream", "viewer_key"], name="live_viewer_once_per_stream")]


class StreamMinute(models.Model):
    """The per-minute series: raw data for analytics and for the inflated-traffic checks."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="minutes", verbose_name=_("直播场次"))
    minute = models.DateTimeField(_("分钟"))
    concurrent_viewers = models.PositiveIntegerField(_("在线人数(峰值)"), default=0)
    new_viewers = models.PositiveIntegerField(_("新进观众"), default=0)
    chat_messages = models.PositiveIntegerField(_("弹幕数"), default=0)
    likes = models.PositiveIntegerField(_("点赞数"), default=0)
    product_clicks = models.PositiveIntegerField(_("商品点击"), default=0)

    class Meta:
        ordering = ["minute"]
        verbose_name = _("分钟统计")
        verbose_name_plural = _("分钟统计")
        constraints = [models.UniqueConstraint(fields=["stream", "minute"], name="live_minute_once_per_stream")]


class Gift(models.Model):
    """Every gift sent or attempted. Gifts to public-servant hosts are refused and kept here as evidence."""

    class Kind(models.TextChoices):
        FLOWER = "flower", _("送花")

    class Via(models.TextChoices):
        SOCKET = "socket", _("直播间")
        API = "api", _("API")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="gifts", verbose_name=_("直播场次"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("用户"))
    kind = models.CharField(max_length=24, verbose_name=_("礼物类型"))
    via = models.CharField(max_length=8, choices=Via.choices, verbose_name=_("途径"))
    refused = models.BooleanField(default=False, verbose_name=_("已拒绝"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("礼物记录")
        verbose_name_plural = _("礼物记录")


class StreamApproval(models.Model):
    """The discipline-inspection office's sign-off on a public servant's stream (live/approvals.py).

    It covers exactly what `covers` names: the host (kind, title, public-servant flag) and the shelf with
    each product's price and cost floor at the time. Any difference makes it void: a shelf change voids it
    at once (`voided_at`), a price change is found by comparison when the stream goes live. A refusal is
    kept the same way, so the record shows every decision, who took it, when and why.
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", _("批准")
        REFUSED = "refused", _("不予批准")

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("直播"))
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("审批人"))
    reason = models.CharField(_("理由"), max_length=500)
    covers = models.JSONField(_("审批内容"), default=dict)
    decided_at = models.DateTimeField(_("审批时间"), auto_now_add=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    void_reason = models.CharField(_("作废原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("公职人员直播审批")
        verbose_name_plural = _("公职人员直播审批")

    def __str__(self) -> str:
        return f"{self.stream} · {self.get_decision_display()}"


# --- Real-name identity, training and the three thirds (docs/people.md "Hosts") ---------------------------


class HostIdentity(models.Model):
    """A host's real name and mainland resident ID number (accounts/idnumber.py checks it).

    The number is stored only encrypted (accounts/idvault.py, Fernet under ZHUNONG_ID_KEYS) with a keyed
    HMAC digest that is unique: one number belongs to one person. The masked form (region code and last
    four characters) is what pages show; the birth date is not kept in clear (with the mask it would give
    the whole number away)."""

    host = models.OneToOneField(Host, on_delete=models.CASCADE, related_name="identity", verbose_name=_("主播"))
    real_name = models.CharField(_("真实姓名"), max_length=50)
    id_ciphertext = models.TextField(editable=False, verbose_name=_("身份证号密文"))
    id_digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("身份证号摘要"))
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=18, editable=False)
    # How the number's region code compares with the channel's county (idnumber.RegionAgreement).
    region_agreement = models.CharField(_("户籍地与所在县"), max_length=16, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("主播实名信息")
        verbose_name_plural = _("主播实名信息")

    def __str__(self) -> str:
        return f"{self.real_name} {self.id_masked}"

    def policy_scope(self) -> Scope:
        return self.host.policy_scope()


class Course(models.Model):
    """A training course for hosts, run by a county's office (万村主播培养计划 and the like)."""

    county = models.ForeignKey("producers.Region", on_delete=models.PROTECT, related_name="host_courses",
                               verbose_name=_("县"))
    title = models.CharField(_("课程名称"), max_length=100)
    description = models.TextField(_("课程介绍"), blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("培训课程")
        verbose_name_plural = _("培训课程")

    def __str__(self) -> str:
        return self.title

    def policy_scope(self) -> Scope:
        return Scope(regions=lambda: (self.county,))


class TrainingSession(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("课程"))
    topic = models.CharField(_("本节内容"), max_length=100)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    trainer = models.CharField(_("讲师"), max_length=50, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("培训课次")
        verbose_name_plural = _("培训课次")
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="live_training_session_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.course} · {self.topic}"

    def policy_scope(self) -> Scope:
        return self.course.policy_scope()


class Attendance(models.Model):
    """Whether a host attended one session (recorded by the county office after the session)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("培训场次"))
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="attendance", verbose_name=_("主播"))
    present = models.BooleanField(_("出勤"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(auto_now=True, verbose_name=_("记录时间"))

    class Meta:
        ordering = ["session", "host"]
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        constraints = [models.UniqueConstraint(fields=["session", "host"], name="live_attendance_once")]


class Certificate(models.Model):
    """A course completed: every session of the course attended."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("课程"))
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("主播"))
    number = models.CharField(_("证书编号"), max_length=40, unique=True)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("颁发人"))
    issued_at = models.DateTimeField(_("发证时间"))

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("结业证书")
        verbose_name_plural = _("结业证书")
        constraints = [models.UniqueConstraint(fields=["course", "host"], name="live_certificate_once")]


class SegmentKind(models.TextChoices):
    """The three thirds (三个三分之一) of a stream's time."""

    HOUSEHOLD_PRODUCTS = "household_products", _("推介建档立卡户产品")
    COACHING = "coaching", _("带动他人直播")
    POLICY = "policy", _("宣讲政策")


class StreamSegment(models.Model):
    """A stretch of a live stream marked as one of the thirds, from started_at to ended_at (open: now)."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="segments", verbose_name=_("直播场次"))
    kind = models.CharField(_("类别"), max_length=20, choices=SegmentKind.choices)
    started_at = models.DateTimeField(db_index=True, verbose_name=_("开始时间"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("结束时间"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("开始人"))
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("结束人"))

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("直播时段（三个三分之一）")
        verbose_name_plural = _("直播时段（三个三分之一）")
        constraints = [
            models.UniqueConstraint(fields=["stream"], condition=models.Q(ended_at__isnull=True),
                                    name="live_segment_one_open_per_stream"),
        ]
