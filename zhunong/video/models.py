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

    stream = models.OneToOneField("live.Stream", on_delete=models.CASCADE, related_name="ingest")
    # The secret key is shown only to the stream's host (console / API) and never logged; see redact.py.
    stream_key = models.CharField(max_length=64, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_created_at = models.DateTimeField(editable=False)
    state = models.CharField(_("推流状态"), max_length=16, choices=IngestState.choices, default=IngestState.IDLE,
                             editable=False, db_index=True)
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # While reconnecting: the stream ends if no publisher is back by this time.
    grace_until = models.DateTimeField(null=True, blank=True, editable=False)
    current = models.ForeignKey("Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                editable=False)
    # Health, from the media server's stat page (nginx-rtmp `rtmp_stat`).
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False)
    video_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False)
    audio_kbps = models.PositiveIntegerField(null=True, blank=True, editable=False)
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    fps = models.PositiveIntegerField(null=True, blank=True, editable=False)
    video_codec = models.CharField(max_length=32, blank=True, editable=False)
    audio_codec = models.CharField(max_length=32, blank=True, editable=False)
    dropped_frames = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    stats_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

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
    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=16, choices=IngestState.choices)
    to_state = models.CharField(max_length=16, choices=IngestState.choices)
    client_id = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("推流状态变更")
        verbose_name_plural = _("推流状态变更")


class RetiredKey(models.Model):
    """A rotated-away key, kept as a digest only, so its later use is logged as 'old key' for that stream."""

    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="retired_keys")
    key_digest = models.CharField(max_length=64, unique=True)
    retired_at = models.DateTimeField(auto_now_add=True)
    retired_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-retired_at", "-id"]


class Connection(models.Model):
    """One accepted publisher connection (nginx `clientid`); a reconnect is a new connection."""

    ingest = models.ForeignKey(Ingest, on_delete=models.CASCADE, related_name="connections")
    client_id = models.CharField(max_length=20)
    # Which key the publisher used (digest): callbacks after a rotation still find their connection.
    key_digest = models.CharField(max_length=64)
    addr = models.CharField(_("推流地址"), max_length=64, blank=True)
    encoder = models.CharField(_("推流软件"), max_length=120, blank=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["client_id", "ended_at"])]
        verbose_name = _("推流连接")
        verbose_name_plural = _("推流连接")


class RefusedPublish(models.Model):
    """A refused media-server callback, for the operator page. Never holds the key itself."""

    code = models.CharField(max_length=40)
    call = models.CharField(max_length=40, blank=True)
    source_addr = models.CharField(max_length=64, blank=True)
    publisher_addr = models.CharField(max_length=64, blank=True)
    app = models.CharField(max_length=64, blank=True)
    stream = models.ForeignKey("live.Stream", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("被拒推流")
        verbose_name_plural = _("被拒推流")


class Recording(models.Model):
    """One FLV file nginx recorded for one publisher connection (record_done callback)."""

    stream = models.ForeignKey("live.Stream", on_delete=models.CASCADE, related_name="recordings")
    connection = models.ForeignKey(Connection, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="recordings")
    # Relative to the configured record directory.
    path = models.CharField(max_length=300, unique=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Wall clock of the recording's first frame (the accepted publish), to place pins on the replay.
    started_at = models.DateTimeField()
    duration_s = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

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
    stream = models.OneToOneField("live.Stream", on_delete=models.CASCADE, related_name="replay")
    status = models.CharField(_("状态"), max_length=12, choices=ReplayStatus.choices, default=ReplayStatus.PENDING,
                              editable=False, db_index=True)
    # Relative to the configured replay directory: "<id>/replay.mp4", "<id>/cover.jpg".
    video_path = models.CharField(max_length=300, blank=True, editable=False)
    cover_path = models.CharField(max_length=300, blank=True, editable=False)
    duration_s = models.FloatField(null=True, blank=True, editable=False)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=500, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Kept VIDEO_RETENTION_DAYS (3 years by default: online-trade rules) after the stream, then purged.
    keep_until = models.DateTimeField(db_index=True, editable=False)
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("回放")
        verbose_name_plural = _("回放")

    def __str__(self) -> str:
        return f"replay of stream {self.stream_id} ({self.status})"


class ReplayTransition(models.Model):
    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, choices=ReplayStatus.choices)
    to_status = models.CharField(max_length=12, choices=ReplayStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class Chapter(models.Model):
    """A product pin during the stream, placed on the replay's timeline (seconds from its start)."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="chapters")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    # The live app's Pin this came from (kept as a number so the two apps' migrations stay independent).
    pin_id = models.PositiveBigIntegerField(null=True, blank=True)
    start_s = models.FloatField()
    end_s = models.FloatField()
    pinned_at = models.DateTimeField()

    class Meta:
        ordering = ["start_s", "id"]
        verbose_name = _("回放章节")
        verbose_name_plural = _("回放章节")
