"""`zhunong rotate-id-keys`: rotation of the encryption key and of the digest key, all or nothing."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from zhunong.accounts import idvault
from zhunong.live import realname
from zhunong.live.models import HostIdentity
from zhunong.testing import fake_id_number

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_id_keys", *args, stdout=out)
    return out.getvalue()


def test_rotation_then_the_old_key_can_go(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ID_KEYS, settings.ID_HASH_KEY = [old], "hash-one-" + "x" * 30
    hosts = [world.live_room(status="scheduled", verified=False).host for _ in range(2)]
    numbers = [fake_id_number() for _ in hosts]
    for host, number in zip(hosts, numbers, strict=True):
        realname.record_identity(actor=world.operator, host=host, real_name="李四", id_number=number)
    before = {i.pk: (i.id_ciphertext, i.id_digest) for i in HostIdentity.objects.all()}
    settings.ID_KEYS, settings.ID_HASH_KEY = [new, old], "hash-two-" + "y" * 30
    assert "Would re-encrypt 2 ID number(s); 2 digest(s) would change." in _run("--dry-run")
    assert {i.pk: (i.id_ciphertext, i.id_digest) for i in HostIdentity.objects.all()} == before
    assert "Re-encrypted 2 ID number(s); 2 digest(s) changed." in _run()
    settings.ID_KEYS = [new]
    for host, number in zip(hosts, numbers, strict=True):
        identity = HostIdentity.objects.get(host=host)
        assert idvault.decrypt(identity.id_ciphertext) == number and identity.id_digest == idvault.digest(number)
    # The digest still keeps one number to one person under the new key.
    from zhunong.live.errors import IdNumberInUse

    with pytest.raises(IdNumberInUse):
        realname.record_identity(actor=world.operator, host=world.live_room(status="scheduled", verified=False).host,
                                 real_name="张三", id_number=numbers[0])


def test_a_number_no_key_opens_stops_everything(world, settings):
    settings.ID_KEYS = [Fernet.generate_key().decode()]
    host = world.live_room(status="scheduled", verified=False).host
    realname.record_identity(actor=world.operator, host=host, real_name="李四", id_number=fake_id_number())
    before = list(HostIdentity.objects.values())
    settings.ID_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="Nothing was changed"):
        _run()
    assert list(HostIdentity.objects.values()) == before
