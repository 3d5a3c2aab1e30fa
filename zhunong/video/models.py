"""Video: each stream's ingest (secret key, publisher state, health), recordings and shoppable replays.

Two state machines live here (see services.py): the ingest (idle → publishing ⇄ reconnecting → stopped)
and the replay (pending → processing → ready/failed → purged). Both record their history.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "znk_"


def key_digest(raw: str) -> str:
    """Keys are looked up by digest, so a retired key can be recognised without keeping its text."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class IngestState(models.TextChoices):
    IDLE = "idle", _("未开播")
    PUBLISHING = "publishing", _("推流中")
    RECONNECTING = "reconnecting", _("信号中断，等待重连")
    STOPPED = "stopped", _("已停止")


class Ingest(models.Model):
    """The video side of one stream: its secret stream key, publisher state and latest health figures."""

    stream = models.OneToOneField("live.Stream", on_delete=models.CASCADE, related_name="ingest", verbose_name=_("直播场次"))
    # The secret key is shown only to the stream's host (console / API) and never logged; see redact.py.
    stream_key = models.CharField(max_length=64, editable=False, verbose_name=_("推流密钥"))
    key_digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("密钥摘要"))
    key_created_at = models.DateTimeField(editable=False, verbose_name=_("密钥生成时间"))
    state = models.CharField(_("推流状态"), max_length=16, choices=IngestState.choices, default=IngestState.IDLE,
                             editable=False, db_index=True)
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("状态变更时间"))
    # While reconnecting: the stream ends if no publisher is back by this time.
    grace_until = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("宽限期至"))
    current = models.ForeignKey("Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                editable=False, verbose_name=_("当前状态"))
    # Health, from the media server's stat page (nginx-rtmp `rtmp_stat`).
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("码率（kbps）"))
    video_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("视频码率（kbps）"))
    audio_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("音频码率（kbps）"))
    width = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("宽度"))
    height = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("高度"))
    fps = models.PositiveIntegerField(null=True, blank=True, editable=False, verbose_name=_("帧率"))
    video_codec = models.CharField(max_length=32, blank=True, editable=False, verbose_name=_("视频编码"))
    audio_codec = models.CharField(max_length=32, blank=True, editable=False, verbose_name=_("音频编码"))
    dropped_frames = models.PositiveBigIntegerField(null=True, blank=True, editable=False, verbose_name=_("丢帧数"))
    stats_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("统计时间"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("推流")
        verbose_name_plural = _("推流")

    def __str__(self) -> str:  # never the key
        return f"ingest of stream {self.stream_id} ({self.state})"

    def __repr__(self) -> str:
        return f"<Ingest stream={self.stream_id} state={self.state}>"

    @property
    def public_name(self) -> str:
        """The stream's name on the media server after the platform renames it: its id, never the key."""
        return str(self.stream_id)


class IngestTransition(models.Model):
    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="history", verbose_name=_("推流入口"))
    from_state = models.CharField(max_length=16, choices=IngestState.choices, verbose_name=_("原状态"))
    to_state = models.CharField(max_length=16, choices=IngestState.choices, verbose_name=_("新状态"))
    client_id = models.CharField(max_length=20, blank=True, verbose_name=_("客户端编号"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("原因"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("时间"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("推流状态变更")
        verbose_name_plural = _("推流状态变更")


class RetiredKey(models.Model):
    """A rotated-away key, kept as a digest only, so its later use is logged as 'old key' for that stream."""

    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="retired_keys", verbose_name=_("推流入口"))
    key_digest = models.CharField(max_length=64, unique=True, verbose_name=_("密钥摘要"))
    retired_at = models.DateTimeField(auto_now_add=True, verbose_name=_("停用时间"))
    retired_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("停用人"))

    class Meta:
        verbose_name = _("已停用推流密钥")
        verbose_name_plural = _("已停用推流密钥")
        ordering = ["-retired_at", "-id"]


class Connection(models.Model):
    """One accepted publisher connection (nginx `clientid`); a reconnect is a new connection."""

    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="connections", verbose_name=_("推流入口"))
    client_id = models.CharField(max_length=20, verbose_name=_("客户端编号"))
    # Which key the publisher used (digest): callbacks after a rotation still find their connection.
    key_digest = models.CharField(max_length=64, verbose_name=_("密钥摘要"))
    addr = models.CharField(_("推流地址"), max_length=64, blank=True)
    encoder = models.CharField(_("推流软件"), max_length=120, blank=True)
    started_at = models.DateTimeField(verbose_name=_("开始时间"))
    last_seen_at = models.DateTimeField(verbose_name=_("最近活动时间"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("结束时间"))
    end_reason = models.CharField(max_length=120, blank=True, verbose_name=_("结束原因"))

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["client_id", "ended_at"])]
        verbose_name = _("推流连接")
        verbose_name_plural = _("推流连接")


class RefusedPublish(models.Model):
    """A refused media-server callback, for the operator page. Never holds the key itself."""

    code = models.CharField(max_length=40, verbose_name=_("拒绝代码"))
    call = models.CharField(max_length=40, blank=True, verbose_name=_("调用"))
    source_addr = models.CharField(max_length=64, blank=True, verbose_name=_("来源地址"))
    publisher_addr = models.CharField(max_length=64, blank=True, verbose_name=_("推流端地址"))
    app = models.CharField(max_length=64, blank=True, verbose_name=_("应用"))
    stream = models.ForeignKey("live.Stream", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("流名称"))
    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("时间"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("被拒推流")
        verbose_name_plural = _("被拒推流")


class Recording(models.Model):
    """One FLV file nginx recorded for one publisher connection (record_done callback)."""

    stream = models.ForeignKey("live.Stream", on_delete=models.CASCADE, related_name="recordings", verbose_name=_("直播场次"))
    connection = models.ForeignKey(Connection, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="recordings", verbose_name=_("推流连接"))
    # Relative to the configured record directory.
    path = models.CharField(max_length=300, unique=True, verbose_name=_("路径"))
    size_bytes = models.PositiveBigIntegerField(default=0, verbose_name=_("大小（字节）"))
    # Wall clock of the recording's first frame (the accepted publish), to place pins on the replay.
    started_at = models.DateTimeField(verbose_name=_("开始时间"))
    duration_s = models.FloatField(null=True, blank=True, verbose_name=_("时长（秒）"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    purged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("清除时间"))

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("录像文件")
        verbose_name_plural = _("录像文件")


class ReplayStatus(models.TextChoices):
    PENDING = "pending", _("待生成")
    PROCESSING = "processing", _("生成中")
    READY = "ready", _("可回放")
    FAILED = "failed", _("生成失败")
    PURGED = "purged", _("已过保存期删除")


class Replay(models.Model):
    stream = models.OneToOneField("live.Stream", on_delete=models.CASCADE, related_name="replay", verbose_name=_("直播场次"))
    status = models.CharField(_("状态"), max_length=12, choices=ReplayStatus.choices, default=ReplayStatus.PENDING,
                              editable=False, db_index=True)
    # Relative to the configured replay directory: "<id>/replay.mp4", "<id>/cover.jpg".
    video_path = models.CharField(max_length=300, blank=True, editable=False, verbose_name=_("视频路径"))
    cover_path = models.CharField(max_length=300, blank=True, editable=False, verbose_name=_("封面路径"))
    duration_s = models.FloatField(null=True, blank=True, editable=False, verbose_name=_("时长（秒）"))
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True, editable=False, verbose_name=_("大小（字节）"))
    error = models.CharField(max_length=500, blank=True, editable=False, verbose_name=_("错误"))
    attempts = models.PositiveSmallIntegerField(default=0, editable=False, verbose_name=_("尝试次数"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    ready_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("就绪时间"))
    # Kept VIDEO_RETENTION_DAYS (3 years by default: online-trade rules) after the stream, then purged.
    keep_until = models.DateTimeField(db_index=True, editable=False, verbose_name=_("保留至"))
    purged_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("清除时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("回放")
        verbose_name_plural = _("回放")

    def __str__(self) -> str:
        return f"replay of stream {self.stream_id} ({self.status})"


class ReplayTransition(models.Model):
    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="history", verbose_name=_("回放"))
    from_status = models.CharField(max_length=12, choices=ReplayStatus.choices, verbose_name=_("原状态"))
    to_status = models.CharField(max_length=12, choices=ReplayStatus.choices, verbose_name=_("新状态"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("原因"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("时间"))

    class Meta:
        verbose_name = _("回放状态变更")
        verbose_name_plural = _("回放状态变更")
        ordering = ["at", "id"]


class Chapter(models.Model):
    """A product pin during the stream, placed on the replay's timeline (seconds from its start)."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="chapters", verbose_name=_("回放"))
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("商品"))
    # The live app's Pin this came from (kept as a number so the two apps' migrations stay independent).
    pin_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("讲解编号"))
    start_s = models.FloatField(verbose_name=_("开始（秒）"))
    end_s = models.FloatField(verbose_name=_("结束（秒）"))
    pinned_at = models.DateTimeField(verbose_name=_("上架讲解时间"))

    class Meta:
        ordering = ["start_s", "id"]
        verbose_name = _("回放章节")
        verbose_name_plural = _("回放章节")
