"""A password change revokes every API token of the user (connected in AccountsConfig.ready).

Django re-hashes a password when its hasher changes (e.g. PBKDF2 → Argon2 at the next sign-in): that is a
`set_password` with the same password, not a change, so it keeps the tokens.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.db.models.signals import post_save, pre_save

from . import services
from .models import User


def _note_password_change(sender, instance: User, **kwargs) -> None:  # noqa: ANN001
    raw = getattr(instance, "_password", None)
    instance._zh_password_changed = False
    if raw is None or instance.pk is None:
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._zh_password_changed = bool(old) and not check_password(raw, old)


def _revoke_tokens_on_password_change(sender, instance: User, created: bool, **kwargs) -> None:  # noqa: ANN001
    if not created and getattr(instance, "_zh_password_changed", False):
        instance._zh_password_changed = False
        services.revoke_all_tokens(user=instance)


def connect_signals() -> None:
    pre_save.connect(_note_password_change, sender=User, dispatch_uid="accounts.receivers.password_pre")
    post_save.connect(_revoke_tokens_on_password_change, sender=User, dispatch_uid="accounts.receivers.password")
