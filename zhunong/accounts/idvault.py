"""Encryption and keyed hashing of resident ID numbers (docs/people.md "Hosts", docs/deploy.md "ID number keys",
docs/decisions/0020-host-id-numbers.md).

A stored number is a Fernet token (AES-128-CBC with HMAC-SHA256, from `cryptography`) under
`ZHUNONG_ID_KEYS`: a comma-separated list of Fernet keys, newest first. MultiFernet encrypts with the
first and decrypts with any, so a key is rotated by putting a new one in front, running `zhunong
rotate-id-keys` (re-encrypts every number under the first key), then removing the old key.

Uniqueness ("one ID number belongs to one person") cannot use the ciphertext (Fernet tokens differ every
time), so each number also gets an HMAC-SHA256 digest under `ZHUNONG_ID_HASH_KEY`, stored in a unique
column. Without the key, the digest of a guessed number cannot be computed, which matters because an ID
number has little entropy (region, birth date and a 3-digit sequence). Changing the hash key needs the same
command: it recomputes every digest from the decrypted numbers.

Without these variables the keys are derived from SECRET_KEY, but only with DEBUG or ZHUNONG_DEMO on (the
demo and the tests); otherwise every use raises `IdKeysMissing` (503 `id_keys_missing`) and `zhunong check --deploy`
fails with live.E002.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks

from .errors import IdKeysMissing


def _derived(purpose: str) -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{purpose}".encode()).digest()


def _dev_keys_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "DEMO", False))


def fernet_keys() -> list[bytes]:
    keys = [k.encode() for k in getattr(settings, "ID_KEYS", [])]
    if keys:
        return keys
    if _dev_keys_allowed():
        return [base64.urlsafe_b64encode(_derived("zhunong.id-numbers.fernet"))]
    raise IdKeysMissing()


def hash_key() -> bytes:
    key = getattr(settings, "ID_HASH_KEY", "")
    if key:
        return key.encode()
    if _dev_keys_allowed():
        return _derived("zhunong.id-numbers.hmac")
    raise IdKeysMissing()


def _vault() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in fernet_keys()])


def encrypt(number: str) -> str:
    return _vault().encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    """The number; InvalidToken if none of the configured keys opens it (a key removed too early)."""
    return _vault().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same number encrypted under the newest key."""
    return _vault().rotate(token.encode()).decode()


def digest(number: str) -> str:
    return hmac.new(hash_key(), number.encode(), hashlib.sha256).hexdigest()


def check_id_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001, ANN003
    """System check live.E002: the ID keys are configured (or DEBUG / ZHUNONG_DEMO allows derived ones) and
    every key in ZHUNONG_ID_KEYS is a valid Fernet key."""
    errors = []
    try:
        for key in fernet_keys():
            Fernet(key)
        hash_key()
    except IdKeysMissing:
        errors.append(checks.Error(
            "ZHUNONG_ID_KEYS / ZHUNONG_ID_HASH_KEY are not set: hosts' ID numbers cannot be stored.",
            hint="Set both (docs/deploy.md \"ID number keys\"); derived keys are only for DEBUG or ZHUNONG_DEMO.",
            id="live.E002"))
    except (ValueError, TypeError):
        errors.append(checks.Error("ZHUNONG_ID_KEYS holds a value that is not a Fernet key.",
                                   hint="Generate one with Fernet.generate_key() (docs/deploy.md).", id="live.E002"))
    return errors


__all__ = ["IdKeysMissing", "InvalidToken", "check_id_keys", "decrypt", "digest", "encrypt", "rotate"]
