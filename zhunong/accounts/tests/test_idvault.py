"""accounts/idvault.py: encryption under rotating keys, the keyed digest, and refusal without keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from zhunong.accounts import idvault
from zhunong.accounts.errors import IdKeysMissing

NUMBER = "11010519491231002X"


def test_encrypts_without_showing_the_number_and_decrypts(settings):
    settings.ID_KEYS = [Fernet.generate_key().decode()]
    token = idvault.encrypt(NUMBER)
    assert NUMBER not in token and token != idvault.encrypt(NUMBER)  # fresh IV each time
    assert idvault.decrypt(token) == NUMBER


def test_rotation_new_key_first_then_old_removed(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ID_KEYS = [old]
    token = idvault.encrypt(NUMBER)
    settings.ID_KEYS = [new, old]
    assert idvault.decrypt(token) == NUMBER
    rotated = idvault.rotate(token)
    settings.ID_KEYS = [new]
    assert idvault.decrypt(rotated) == NUMBER
    with pytest.raises(InvalidToken):
        idvault.decrypt(token)


def test_digest_is_keyed_and_stable(settings):
    settings.ID_HASH_KEY = "a" * 40
    first = idvault.digest(NUMBER)
    assert first == idvault.digest(NUMBER) and len(first) == 64
    settings.ID_HASH_KEY = "b" * 40
    assert idvault.digest(NUMBER) != first


def test_no_keys_outside_debug_and_demo_refuses(settings):
    settings.ID_KEYS, settings.ID_HASH_KEY, settings.DEBUG, settings.DEMO = [], "", False, False
    with pytest.raises(IdKeysMissing) as exc:
        idvault.encrypt(NUMBER)
    assert exc.value.code == "id_keys_missing" and exc.value.status == 503
    with pytest.raises(IdKeysMissing):
        idvault.digest(NUMBER)
    assert [e.id for e in idvault.check_id_keys(None)] == ["live.E002"]
    with pytest.raises(SystemCheckError, match="live.E002"):
        call_command("check", deploy=True)
    # A deployment check only: tools and benchmarks run without the keys.
    assert "live.E002" not in [e.id for e in checks.run_checks()]


def test_demo_derives_keys_from_the_secret_key(settings):
    settings.ID_KEYS, settings.ID_HASH_KEY, settings.DEBUG, settings.DEMO = [], "", False, True
    assert idvault.decrypt(idvault.encrypt(NUMBER)) == NUMBER
    assert idvault.check_id_keys(None) == []


def test_a_bad_key_fails_the_check(settings):
    settings.ID_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in idvault.check_id_keys(None)] == ["live.E002"]
