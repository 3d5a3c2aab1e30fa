"""Real-name hosts: the identity on file (real name and resident ID number), the operator's verification and
its revocation, and the full number, shown to the verifying operator only (docs/people.md "Hosts").

The number's rules are accounts/idnumber.py (GB 11643-1999 check character, a real birth date, a mainland
province's region code); a host must also be at least MIN_HOST_AGE years old, both when the number is
recorded and when the host is verified. The number is kept encrypted with a unique keyed digest
(accounts/idvault.py), so a second person with the same number is refused (`id_number_in_use`).

Changing the number of a verified host takes the verification away: the new identity must be verified
again before the host goes live. Every change, verification, revocation and look at a full number goes to
the audit log (core.audit); so do refused attempts (bad numbers, a reused number, an under-age host), which
are recorded after the refused transaction has rolled back, so they stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhunong.accounts import idnumber, idvault, policy
from zhunong.accounts.models import User
from zhunong.core.audit import REFUSED, record_action
from zhunong.core.errors import DomainError, PermissionDenied, ValidationFailed
from zhunong.core.text import clean_text

from .errors import HostIdentityMissing, HostUnderAge, IdNumberInUse, NotVerifyingOperator
from .models import Host, HostIdentity, HostVerification

MIN_HOST_AGE = 16
# A real name: two to fifty characters once trimmed, no digits, control characters or punctuation other than
# the middle dot of transliterated minority and foreign names (e.g. 阿依古丽·买买提). NAME_PATTERN is the same
# rule on the untrimmed text, for the API's schema.
_NAME_FORBIDDEN = ("0-9\uff10-\uff19!-/:-@\\[-`{-~\uff0c\u3002\uff01\uff1f\u3001\uff1b\uff1a\uff08\uff09"
                   "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069")
_NAME = re.compile(f"^[^{_NAME_FORBIDDEN}]{{2,50}}$")
NAME_PATTERN = f"^\\s*[^{_NAME_FORBIDDEN}\\s][^{_NAME_FORBIDDEN}]*[^{_NAME_FORBIDDEN}\\s]\\s*$"

T = TypeVar("T")


def _require_manager(actor: User | None, host: Host) -> None:
    policy.require(actor, "channel.manage", host,
                   error=PermissionDenied("Only the county's operators record and verify its hosts' identities."))


def _locked(host: Host) -> Host:
    return Host.objects.select_for_update().select_related("channel__county", "user").get(pk=host.pk)


def _audited(action: str, actor: User | None, host: Host, run: Callable[[], T]) -> T:
    """Run `run`; a refusal is recorded in the audit log after its transaction rolled back, and re-raised."""
    try:
        return run()
    except DomainError as refused:
        record_action(actor=actor, action=action, subject=host, outcome=REFUSED,
                      after={"code": refused.code, **{k: v for k, v in refused.details.items() if k != "id_number"}})
        raise


def clean_real_name(value: object) -> str:
    name = clean_text(value, field="real_name", max_length=50)  # type: ignore[arg-type]
    if not _NAME.fullmatch(name):
        raise ValidationFailed("real_name: two to fifty characters, no digits or punctuation.",
                               details={"field": "real_name"})
    return name


def check_id_number(raw: object) -> idnumber.ResidentId:
    """Parse and check a host's ID number today: the number's rules and the minimum age."""
    today = timezone.localdate()
    rid = idnumber.parse(raw, today=today)
    if rid.age_on(today) < MIN_HOST_AGE:
        raise HostUnderAge(details={"minimum_age": MIN_HOST_AGE})
    return rid


def _record(*, actor: User, host: Host, real_name: str, id_number: str) -> HostIdentity:
    """Inside the caller's transaction, with `host` locked and the actor authorised."""
    name = clean_real_name(real_name)
    rid = check_id_number(id_number)
    digest = idvault.digest(rid.number)
    if HostIdentity.objects.filter(id_digest=digest).exclude(host=host).exists():
        raise IdNumberInUse()
    current = HostIdentity.objects.filter(host=host).first()
    before = {"real_name": current.real_name, "id_masked": current.id_masked} if current else None
    if current is not None and current.id_digest == digest and current.real_name == name:
        return current  # the same identity again: nothing changes
    number_changed = current is None or current.id_digest != digest
    revoke = current is not None and number_changed and host.is_verified
    identity = current or HostIdentity(host=host)
    identity.real_name = name
    identity.id_ciphertext = idvault.encrypt(rid.number) if number_changed else identity.id_ciphertext
    identity.id_digest = digest
    identity.id_masked = rid.masked
    identity.region_agreement = idnumber.region_agreement(rid.region_code, host.channel.county.code)
    identity.recorded_by = actor
    identity.recorded_at = timezone.now()
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:  # another host took the number between the check and the save
        raise IdNumberInUse() from None
    HostVerification.objects.create(host=host, action=HostVerification.Action.IDENTITY, actor=actor,
                                    id_masked=rid.masked, note="changed" if current else "recorded")
    if revoke:
        # A new number is a new identity: verified again before the host goes live.
        HostVerification.objects.create(host=host, action=HostVerification.Action.REVOKED, actor=actor,
                                        id_masked=current.id_masked, note="ID number changed")
        host.verified_at, host.verified_by, host.verification_method = None, None, ""
        host.save(update_fields=["verified_at", "verified_by", "verification_method"])
    record_action(actor=actor, action="live.host_identity_recorded", subject=host, before=before,
                  after={"real_name": name, "id_masked": rid.masked, "region_agreement": identity.region_agreement,
                         "verification_revoked": revoke})
    return identity


def record_identity(*, actor: User, host: Host, real_name: str, id_number: str) -> HostIdentity:
    """Record (or change) a host's real name and ID number. A changed number takes the verification away."""

    @transaction.atomic
    def run() -> HostIdentity:
        locked = _locked(host)
        _require_manager(actor, locked)
        return _record(actor=actor, host=locked, real_name=real_name, id_number=id_number)

    return _audited("live.host_identity_recorded", actor, host, run)


def verify_host(*, actor: User, host: Host, method: str, note: str = "", real_name: str | None = None,
                id_number: str | None = None) -> Host:
    """The operator's check in person or by document (`method`), of the identity on file, or of the one given
    here (recorded first, in the same transaction). Only verified hosts go live (streams.start_stream)."""

    @transaction.atomic
    def run() -> Host:
        locked = _locked(host)
        _require_manager(actor, locked)
        if method not in HostVerification.Method.values:
            raise ValidationFailed("method: unknown verification method.", details={"field": "method"})
        clean_note = clean_text(note, field="note", max_length=300, required=False)
        if real_name is not None or id_number is not None:
            _record(actor=actor, host=locked, real_name=real_name or "", id_number=id_number or "")
        identity = HostIdentity.objects.filter(host=locked).first()
        if identity is None:
            raise HostIdentityMissing()
        check_id_number(idvault.decrypt(identity.id_ciphertext))  # still valid and old enough today
        record = HostVerification.objects.create(host=locked, action=HostVerification.Action.VERIFIED,
                                                 method=method, note=clean_note, actor=actor,
                                                 id_masked=identity.id_masked)
        before = {"verified": locked.is_verified, "method": locked.verification_method}
        locked.verified_at, locked.verified_by, locked.verification_method = record.at, actor, method
        locked.save(update_fields=["verified_at", "verified_by", "verification_method"])
        record_action(actor=actor, action="live.host_verified", subject=locked, before=before,
                      after={"verified": True, "method": method, "id_masked": identity.id_masked})
        return locked

    return _audited("live.host_verified", actor, host, run)


def revoke_host_verification(*, actor: User, host: Host, reason: str) -> Host:
    @transaction.atomic
    def run() -> Host:
        locked = _locked(host)
        _require_manager(actor, locked)
        clean_reason = clean_text(reason, field="reason", max_length=300)
        identity = HostIdentity.objects.filter(host=locked).first()
        HostVerification.objects.create(host=locked, action=HostVerification.Action.REVOKED, note=clean_reason,
                                        actor=actor, id_masked=identity.id_masked if identity else "")
        before = {"verified": locked.is_verified, "method": locked.verification_method}
        locked.verified_at, locked.verified_by, locked.verification_method = None, None, ""
        locked.save(update_fields=["verified_at", "verified_by", "verification_method"])
        record_action(actor=actor, action="live.host_verification_revoked", subject=locked, before=before,
                      after={"verified": False, "reason": clean_reason})
        return locked

    return _audited("live.host_verification_revoked", actor, host, run)


def may_see_full_number(user: User | None, host: Host) -> bool:
    """The operator who verified the host, or who recorded the identity on file (and still manages the
    county's channel); nobody else, whatever their role."""
    identity = HostIdentity.objects.filter(host=host).first()
    if identity is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.pk not in {identity.recorded_by_id, host.verified_by_id}:
        return False
    return policy.can(user, "channel.manage", host)


def reveal_id_number(*, actor: User, host: Host) -> str:
    """The full number, for the verifying operator only; every look (and every refused one) is audited."""

    @transaction.atomic
    def run() -> str:
        identity = HostIdentity.objects.filter(host=host).first()
        if identity is None:
            raise HostIdentityMissing()
        if not may_see_full_number(actor, host):
            raise NotVerifyingOperator()
        record_action(actor=actor, action="live.host_id_number_viewed", subject=host,
                      after={"id_masked": identity.id_masked})
        return idvault.decrypt(identity.id_ciphertext)

    return _audited("live.host_id_number_viewed", actor, host, run)


def rotate_keys(*, dry_run: bool = False) -> dict[str, int]:
    """Re-encrypt every stored number under the newest key of ZHUNONG_ID_KEYS and recompute its digest under
    ZHUNONG_ID_HASH_KEY (`zhunong rotate-id-keys`). All or nothing: a number no configured key opens stops
    the run (InvalidToken) before anything is written."""
    counts = {"identities": 0, "re_encrypted": 0, "digests_changed": 0}
    with transaction.atomic():
        rows = list(HostIdentity.objects.select_for_update().order_by("pk"))
        for identity in rows:
            number = idvault.decrypt(identity.id_ciphertext)  # raises before any write if a key is missing
            identity.id_ciphertext = idvault.rotate(identity.id_ciphertext)
            new_digest = idvault.digest(number)
            counts["identities"] += 1
            counts["re_encrypted"] += 1
            counts["digests_changed"] += new_digest != identity.id_digest
            identity.id_digest = new_digest
        if not dry_run:
            # Digests are unique: move them out of the way first, so two swapped values never collide mid-way.
            for identity in rows:
                HostIdentity.objects.filter(pk=identity.pk).update(id_digest=f"rotating-{identity.pk}")
            for identity in rows:
                HostIdentity.objects.filter(pk=identity.pk).update(id_ciphertext=identity.id_ciphertext,
                                                                   id_digest=identity.id_digest)
    return counts
