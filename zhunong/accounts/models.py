"""Users, roles and API tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    display_name = models.CharField(_("昵称"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    # Back-office staff (county operators, regulators) see only this region's subtree.
    region = models.ForeignKey("producers.Region", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="staff", verbose_name=_("管辖区域"))

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_role(self, role: str) -> bool:
        if not self.is_authenticated:
            return False
        cache = getattr(self, "_role_cache", None)
        if cache is None:
            cache = set(self.groups.values_list("name", flat=True))
            self._role_cache = cache
        return role in cache


def default_token_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS)


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户"))
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("令牌摘要"))
    prefix = models.CharField(max_length=8, verbose_name=_("前缀"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("创建时间"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("最近使用时间"))
    # Issued with settings.API_TOKEN_TTL_DAYS; an expired token is refused like an unknown one.
    expires_at = models.DateTimeField(default=default_token_expiry, verbose_name=_("过期时间"))

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class RegistrationAttempt(models.Model):
    """One registration attempt from a client address, kept for the throttle window (accounts/throttle.py)."""

    address = models.CharField(max_length=45, verbose_name=_("客户端地址"))
    at = models.DateTimeField(db_index=True, verbose_name=_("时间"))

    class Meta:
        verbose_name = _("注册尝试")
        verbose_name_plural = _("注册尝试")
        indexes = [models.Index(fields=["address", "at"])]
