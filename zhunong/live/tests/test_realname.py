"""Real-name hosts (live/realname.py): the identity on file, verification, the masked and the full number, the
audit trail, and every refusal leaving nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.idnumber import with_check_char
from zhunong.core.errors import PermissionDenied
from zhunong.core.models import AuditEntry
from zhunong.live import errors, realname, streams
from zhunong.live.models import HostIdentity, HostVerification
from zhunong.testing import fake_id_number, make_user

pytestmark = pytest.mark.django_db


def _number_born(born: dt.date, seq: str = "123") -> str:
    return with_check_char(f"430923{born:%Y%m%d}{seq}")


@pytest.fixture
def new_host(world):  # noqa: ANN001, ANN201
    room = world.live_room(status="scheduled", verified=False)
    return room.host


def _state(host):  # noqa: ANN001, ANN202
    host.refresh_from_db()
    return (host.verified_at, host.verification_method, list(HostIdentity.objects.filter(host=host).values()),
            HostVerification.objects.filter(host=host).count())


def test_record_then_verify_stores_only_ciphertext_and_a_mask(world, new_host):
    number = fake_id_number()
    identity = realname.record_identity(actor=world.operator, host=new_host, real_name="李四", id_number=number)
    assert identity.id_masked == number[:6] + "********" + number[14:]
    assert number not in identity.id_ciphertext and number[6:14] not in identity.id_masked
    assert identity.id_digest != number and len(identity.id_digest) == 64
    host = streams.verify_host(actor=world.operator, host=new_host, method="id_card_in_person", note="现场")
    assert host.is_verified and host.verification_method == "id_card_in_person"
    record = HostVerification.objects.get(host=host, action="verified")
    assert record.id_masked == identity.id_masked and record.actor == world.operator
    actions = set(AuditEntry.objects.filter(subject_id=str(host.pk)).values_list("action", "outcome"))
    assert {("live.host_identity_recorded", "done"), ("live.host_verified", "done")} <= actions
    # No audit entry carries the number.
    assert not any(number in str(e.before) + str(e.after) for e in AuditEntry.objects.all())


def test_verify_with_identity_in_one_step(world, new_host):
    streams.verify_host(actor=world.operator, host=new_host, method="gov_real_name", real_name="阿依古丽·买买提",
                        id_number=fake_id_number().lower())
    new_host.refresh_from_db()
    assert new_host.is_verified and new_host.identity.real_name == "阿依古丽·买买提"


def test_verification_without_identity_is_refused_and_audited(world, new_host):
    before = _state(new_host)
    with pytest.raises(errors.HostIdentityMissing) as exc:
        streams.verify_host(actor=world.operator, host=new_host, method="video_call")
    assert exc.value.code == "host_identity_missing" and exc.value.status == 409
    assert _state(new_host) == before
    assert AuditEntry.objects.filter(action="live.host_verified", outcome="refused",
                                     subject_id=str(new_host.pk)).exists()


@pytest.mark.parametrize(("number", "code"), [
    ("43092319900101123", "id_number_malformed"),
    ("4309231990010112", "id_number_malformed"),
    (with_check_char("43092319900101123")[:-1] + ("0" if with_check_char("43092319900101123")[-1] != "0" else "1"),
     "id_number_checksum"),
    (with_check_char("43092319900231123"), "id_number_birth_date"),
    (with_check_char("43092330000101123"), "id_number_birth_date"),
    (with_check_char("99092319900101123"), "id_number_region"),
])
def test_bad_numbers_change_nothing(world, new_host, number, code):
    before = _state(new_host)
    with pytest.raises(Exception) as exc:
        streams.verify_host(actor=world.operator, host=new_host, method="video_call", real_name="王五", id_number=number)
    assert exc.value.code == code
    assert _state(new_host) == before
    entry = AuditEntry.objects.get(action="live.host_verified", outcome="refused")
    assert entry.after["code"] == code and number not in str(entry.after)


def test_under_sixteen_is_refused_and_sixteen_today_is_fine(world, new_host):
    today = timezone.localdate()
    sixteen_tomorrow = today.replace(year=today.year - 16) + dt.timedelta(days=1)
    with pytest.raises(errors.HostUnderAge) as exc:
        realname.record_identity(actor=world.operator, host=new_host, real_name="小明",
                                 id_number=_number_born(sixteen_tomorrow))
    assert exc.value.code == "host_under_age" and exc.value.details == {"minimum_age": 16}
    assert not HostIdentity.objects.filter(host=new_host).exists()
    born = today.replace(year=today.year - 16) if (today.month, today.day) != (2, 29) else dt.date(today.year - 16, 2, 28)
    realname.record_identity(actor=world.operator, host=new_host, real_name="小明", id_number=_number_born(born))


def test_one_number_one_person(world, new_host):
    number = fake_id_number()
    realname.record_identity(actor=world.operator, host=new_host, real_name="李四", id_number=number)
    other = world.live_room(status="scheduled", verified=False).host
    before = _state(other)
    with pytest.raises(errors.IdNumberInUse) as exc:
        streams.verify_host(actor=world.operator, host=other, method="video_call", real_name="张三", id_number=number)
    assert exc.value.code == "id_number_in_use" and exc.value.status == 409
    assert _state(other) == before
    # The same host recording the same number again is no change.
    again = realname.record_identity(actor=world.operator, host=new_host, real_name="李四", id_number=f" {number} ")
    assert HostVerification.objects.filter(host=new_host, action="identity").count() == 1
    assert again.id_digest == HostIdentity.objects.get(host=new_host).id_digest


def test_changing_the_number_takes_the_verification_away(world):
    room = world.live_room(status="scheduled")
    room.host.refresh_from_db()
    assert room.host.is_verified
    realname.record_identity(actor=world.operator, host=room.host, real_name="测试主播", id_number=fake_id_number())
    room.host.refresh_from_db()
    assert not room.host.is_verified
    with pytest.raises(errors.HostNotVerified):
        streams.start_stream(stream=room.stream, actor=room.host.user)
    entry = AuditEntry.objects.filter(action="live.host_identity_recorded").latest("id")
    assert entry.before["id_masked"] != entry.after["id_masked"] and entry.after["verification_revoked"]
    # A new name with the same number keeps the verification.
    streams.verify_host(actor=world.operator, host=room.host, method="video_call")
    number = realname.reveal_id_number(actor=world.operator, host=room.host)
    realname.record_identity(actor=world.operator, host=room.host, real_name="测试主播二", id_number=number)
    room.host.refresh_from_db()
    assert room.host.is_verified


def test_only_the_verifying_operator_sees_the_full_number(world, new_host):
    number = fake_id_number()
    streams.verify_host(actor=world.operator, host=new_host, method="id_card_in_person", real_name="李四",
                        id_number=number)
    assert realname.reveal_id_number(actor=world.operator, host=new_host) == number
    colleague = make_user(roles.COUNTY_OPERATOR, region=world.county)
    admin = make_user(roles.PLATFORM_ADMIN)
    for user in (colleague, admin, new_host.user):
        assert not realname.may_see_full_number(user, new_host)
        with pytest.raises(errors.NotVerifyingOperator):
            realname.reveal_id_number(actor=user, host=new_host)
    views = AuditEntry.objects.filter(action="live.host_id_number_viewed")
    assert views.filter(outcome="done").count() == 1 and views.filter(outcome="refused").count() == 3


def test_outsiders_and_bad_names_are_refused(world, new_host):
    with pytest.raises(PermissionDenied):
        realname.record_identity(actor=make_user(roles.COUNTY_OPERATOR), host=new_host, real_name="李四",
                                 id_number=fake_id_number())
    for name in ("李", "李4", "Li, Si", ""):
        with pytest.raises(Exception) as exc:
            realname.record_identity(actor=world.operator, host=new_host, real_name=name, id_number=fake_id_number())
        assert exc.value.code == "invalid" and exc.value.details["field"] == "real_name"
    assert not HostIdentity.objects.filter(host=new_host).exists()


def test_revocation_is_audited(world):
    room = world.live_room(status="scheduled")
    streams.revoke_host_verification(actor=world.operator, host=room.host, reason="身份存疑")
    entry = AuditEntry.objects.get(action="live.host_verification_revoked")
    assert entry.before["verified"] is True and entry.after == {"verified": False, "reason": "身份存疑"}


def test_changing_an_unverified_hosts_number_revokes_nothing(world, new_host):
    realname.record_identity(actor=world.operator, host=new_host, real_name="李四", id_number=fake_id_number())
    realname.record_identity(actor=world.operator, host=new_host, real_name="李四", id_number=fake_id_number())
    entry = AuditEntry.objects.filter(action="live.host_identity_recorded").latest("id")
    assert entry.before is not None and entry.after["verification_revoked"] is False
    assert not HostVerification.objects.filter(host=new_host, action="revoked").exists()
    assert list(HostVerification.objects.filter(host=new_host).values_list("note", flat=True)) == ["changed",
                                                                                                   "recorded"]
