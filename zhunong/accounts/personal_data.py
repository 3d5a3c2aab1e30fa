"""A person's own data: download all of it as a file, or delete the account.

accounts sits below the apps that hold most of a buyer's data (orders, reviews, chat), so they are gathered
through sections the higher layer provides at startup (`provide`; the notifications app registers orders,
addresses, payments, reviews, after-sales, complaints, chat, follows and notifications). A section knows how
to collect the user's rows, how to anonymise or remove them on deletion, and what must end first.

Deleting an account anonymises what the law requires to keep: orders, payments, refunds and after-sales
records stay (the E-Commerce Law, art. 31, keeps transaction records at least three years), without the
name, phone and address; reviews keep their rating without their text; chat messages lose the nickname; the
saved address, follows, notifications and tokens go. The user row stays, inactive and renamed, so that the
records and the audit log keep pointing at someone. Both actions are audited.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from zhunong.core.audit import record_action

from . import roles
from .errors import AccountDeletionBlocked, StaffAccountNotDeletable, WrongPassword
from .models import User
from .services import revoke_all_tokens

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Section:
    name: str
    collect: Callable[[User], list[dict]]
    # On deletion: anonymise or remove the user's rows of this section; returns how many rows changed.
    erase: Callable[[User], int] | None = None
    # What must end before the account can go (e.g. orders under way), as short descriptions.
    blockers: Callable[[User], list[str]] | None = None


_SECTIONS: dict[str, Section] = {}


def provide(section: Section) -> None:
    _SECTIONS[section.name] = section


def sections() -> list[Section]:
    return list(_SECTIONS.values())


def _profile(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "phone": user.phone, "date_joined": user.date_joined, "last_login": user.last_login,
            "roles": sorted(user.groups.values_list("name", flat=True))}


def export_data(*, user: User) -> dict:
    """Everything the platform holds about the user, by section (audited: accounts.personal_data_exported)."""
    data = {"format": FORMAT_VERSION, "exported_at": timezone.now(), "profile": _profile(user)}
    for section in sections():
        data[section.name] = section.collect(user)
    record_action(actor=user, action="accounts.personal_data_exported", subject=user,
                  after={"sections": sorted(k for k in data if k not in ("format", "exported_at"))})
    return data


def export_file(*, user: User) -> tuple[str, bytes]:
    """The export as a UTF-8 JSON file: (file name, content)."""
    data = export_data(user=user)
    name = f"zhunong-my-data-{timezone.localdate():%Y%m%d}.json"
    return name, json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def deletion_blockers(user: User) -> list[str]:
    reasons: list[str] = []
    for section in sections():
        if section.blockers is not None:
            reasons += section.blockers(user)
    return reasons


@transaction.atomic
def delete_account(*, user: User, password: str) -> User:
    """Delete the user's own account (buyers): checks the password again, refuses staff and hosts, and waits
    for orders under way. Changes nothing when refused."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(password or ""):
        raise WrongPassword()
    held = set(user.groups.values_list("name", flat=True)) - {roles.BUYER}
    if held or user.is_staff or user.is_superuser or hasattr(user, "host_profile"):
        raise StaffAccountNotDeletable(details={"roles": sorted(held)})
    blockers = deletion_blockers(user)
    if blockers:
        raise AccountDeletionBlocked(details={"open": blockers})
    erased = {section.name: section.erase(user) for section in sections() if section.erase is not None}
    revoke_all_tokens(user=user)
    user.username = f"deleted-{user.pk}-{secrets.token_hex(4)}"
    user.display_name = user.email = user.phone = user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    # The entry names the account by id only: the old username would be the personal data just removed.
    record_action(actor=None, action="accounts.account_deleted", subject=("accounts.user", user.pk),
                  after={"erased": erased, "at": dt.datetime.now(dt.UTC)})
    return user
