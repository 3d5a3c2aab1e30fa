"""Idempotency records kept outside the database: refusals, and requests still in flight.

A created order's first response is stored in the database (`IdempotencyRecord`, the truth). What never
creates an order — a deterministic refusal (sold out, over the limit, not started) — is remembered for a
day here, so a retry with the same key answers the same, as Stripe's API does. With REDIS_URL the record
lives in Redis under a key the purchase fast path's Lua script reads and writes too (fastpath.py), so both
paths see one record; without Redis (the embedded setup) it lives in Django's cache.

A record is one string, its request fingerprint at a fixed offset so the Lua script can compare it:
    "P|<fp>"                      a fast-path request holding stock, not yet committed (expires by itself)
    "F|<fp>|<code>|<details>"     a refusal: error code and its details as JSON
    "S|<fp>|<body>"               a created order's 201 body, byte for byte (fast path, after commit)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from zhunong.core import redis

from .errors import LimitExceeded, SaleNotStarted, SoldOut

TTL_SECONDS = 24 * 3600
FP_LENGTH = 64  # a SHA-256 hex digest (request_fingerprint)

log = logging.getLogger(__name__)

REPLAYABLE = {cls.code: cls for cls in (SoldOut, LimitExceeded, SaleNotStarted)}


@dataclass(frozen=True)
class Record:
    kind: str  # "P", "F" or "S"
    fingerprint: str
    code: str = ""
    details: dict[str, Any] | None = None
    body: bytes = b""

    def error_body(self) -> dict[str, Any]:
        cls = REPLAYABLE.get(self.code, SoldOut)
        body: dict[str, Any] = {"code": self.code, "message": str(cls.message)}
        if self.details:
            body["details"] = self.details
        return body


def request_fingerprint(*, lines: Sequence[tuple[int, int]], stream_id: int | None, coupon_code: str | None,
                        ship_to: Mapping[str, str] | None = None) -> str:
    """What "the same request" means for an Idempotency-Key: a digest of the cleaned lines, stream and
    coupon (both purchase paths, so a key used on one is recognised on the other), and the address the
    request asked for, when it asked for one (the fast path serves only requests that do not)."""
    request: dict = {"lines": [list(x) for x in lines], "stream_id": stream_id, "coupon_code": coupon_code or None}
    if ship_to is not None:
        request["ship_to"] = dict(ship_to)
    body = json.dumps(request, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def redis_key(buyer_id: int, key: str) -> str:
    return redis.key(redis.IDEMPOTENCY, buyer_id, key)


def redis_prefix() -> str:
    """What the fast path's script puts before `<buyer>:<key>`."""
    return redis.prefix(redis.IDEMPOTENCY)


def _cache_key(buyer_id: int, key: str) -> str:
    return "orders:idem:" + hashlib.sha256(f"{buyer_id}:{key}".encode()).hexdigest()


def details_json(details: dict[str, Any] | None) -> str:
    # The same separators Python's json.dumps uses by default, which the Lua script writes by hand.
    return json.dumps(details or {}, ensure_ascii=True)


def failure(fingerprint: str, code: str, details: dict[str, Any] | None) -> str:
    return f"F|{fingerprint}|{code}|{details_json(details)}"


def success(fingerprint: str, body: bytes) -> bytes:
    return b"S|" + fingerprint.encode() + b"|" + body


def parse(raw: bytes | str | None) -> Record | None:
    if raw is None:
        return None
    data = raw.encode() if isinstance(raw, str) else raw
    kind = data[:1].decode()
    fingerprint = data[2:2 + FP_LENGTH].decode()
    rest = data[3 + FP_LENGTH:]
    if kind == "P":
        return Record("P", fingerprint)
    if kind == "S":
        return Record("S", fingerprint, body=rest)
    if kind == "F":
        code, _, details = rest.decode().partition("|")
        return Record("F", fingerprint, code=code, details=json.loads(details) if details else None)
    raise ValueError(f"unknown idempotency record {data[:10]!r}")


def _redis():  # noqa: ANN202
    return redis.client()


def remember_failure(*, buyer_id: int, key: str, fingerprint: str, code: str, details: dict | None) -> None:
    """Remember a refusal for a day. Best effort: where the record lives (Redis, or Django's cache without
    REDIS_URL) may be unreachable, and then a retry with the key is decided again instead of replayed;
    the refusal itself stands and is answered (docs/reliability.md, "cache Redis unreachable")."""
    value = failure(fingerprint, code, details)
    try:
        if settings.REDIS_URL:
            _redis().set(redis_key(buyer_id, key), value, ex=TTL_SECONDS)
        else:
            cache.set(_cache_key(buyer_id, key), value, timeout=TTL_SECONDS)
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("could not remember a refusal of buyer %s's key", buyer_id, exc_info=True)


def recall(*, buyer_id: int, key: str) -> Record | None:
    """The remembered refusal of this key, if any; None when there is none or it cannot be read (the
    attempt is then decided again: a created order's record is the database's, never only this one)."""
    try:
        raw = _redis().get(redis_key(buyer_id, key)) if settings.REDIS_URL else cache.get(_cache_key(buyer_id, key))
    except Exception as exc:  # noqa: BLE001 - an unreachable store: decide the attempt again (docstring)
        log.warning("could not read the idempotency record of buyer %s's key: %s", buyer_id, exc)
        return None
    return parse(raw)
