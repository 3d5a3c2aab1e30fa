"""Bearer token → user id, cached in Redis for the purchase fast path (orders/fastpath.py).

The fast path answers `POST /api/v1/orders` without Django's request cycle, so it cannot ask the ORM on
every request; it reads `<prefix>:tok:<sha256 of the token>` inside its Lua script instead. Entries are
written when a token is issued or used, and by the fast path's own batched lookup of unknown tokens. They
are removed when a token is deleted or its user deactivated (signals below), and expire a day after
they were last cached or when the token expires, whichever comes first, so a change made behind the ORM's back (a raw UPDATE) lives at most that long. Only active
users are cached.
Without REDIS_URL nothing is cached: there is no fast path then.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from zhunong.core import redis

from .models import ApiToken, User

log = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600


def key(token_hash: str) -> str:
    return redis.key(redis.TOKENS, token_hash)


def key_prefix() -> str:
    """What `key` puts before the token's hash (the purchase fast path builds keys from it)."""
    return redis.prefix(redis.TOKENS)


def _client():  # noqa: ANN202
    return redis.client()


def remember(entries: dict[str, int], *, expires: dict[str, datetime] | None = None) -> None:
    """{token hash: user id} of active users; an entry lives at most until its token expires (`expires`)."""
    if not settings.REDIS_URL or not entries:
        return
    now = timezone.now()
    try:
        pipe = _client().pipeline(transaction=False)
        for token_hash, user_id in entries.items():
            ttl = TTL_SECONDS
            if expires and token_hash in expires:
                ttl = min(ttl, int((expires[token_hash] - now).total_seconds()))
            if ttl <= 0:
                continue
            pipe.set(key(token_hash), user_id, ex=ttl)
        pipe.execute()
    except Exception:  # a cache: the fast path falls back to the database without it
        log.warning("could not cache %s API tokens", len(entries), exc_info=True)


def forget(token_hashes: Iterable[str]) -> None:
    names = [key(h) for h in token_hashes]
    if not settings.REDIS_URL or not names:
        return

    def _delete() -> None:
        try:
            _client().delete(*names)
        except Exception:
            log.error("could not drop %s revoked API tokens from the cache; they expire within %s s",
                      len(names), TTL_SECONDS, exc_info=True)

    transaction.on_commit(_delete)


def lookup(token_hashes: list[str]) -> dict[str, int]:
    """Active users of these token hashes, from the database, and cache what was found."""
    rows = ApiToken.objects.filter(key_hash__in=token_hashes, user__is_active=True, expires_at__gt=timezone.now())
    found, expires = {}, {}
    for token_hash, user_id, expires_at in rows.values_list("key_hash", "user_id", "expires_at"):
        found[token_hash] = user_id
        expires[token_hash] = expires_at
    remember(found, expires=expires)
    return found


def _token_deleted(sender, instance, **kwargs) -> None:  # noqa: ANN001
    forget([instance.key_hash])


def _user_saved(sender, instance, **kwargs) -> None:  # noqa: ANN001
    if not instance.is_active:
        forget(ApiToken.objects.filter(user_id=instance.pk).values_list("key_hash", flat=True))


def connect_signals() -> None:
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="accounts.tokencache.delete")
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts.tokencache.user")
