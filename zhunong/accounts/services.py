"""Writes for users, roles and API tokens."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from zhunong.core.audit import record_action
from zhunong.core.errors import ValidationFailed
from zhunong.core.text import clean_text

from . import roles, tokencache
from .errors import BadCredentials, TooManyAttempts, UsernameTaken, WeakPassword
from .models import ApiToken, User

_USERNAME = re.compile(r"^[\w.@+-]{3,150}$")


@transaction.atomic
def create_user(*, username: str, password: str, role: str = roles.BUYER, display_name: str = "",
                region: Model | None = None, email: str = "", is_staff: bool | None = None) -> User:
    """`region` is a producers.Region (typed loosely: accounts sits below producers)."""
    username = clean_text(username, field="username", max_length=150)
    if not _USERNAME.match(username):
        raise ValidationFailed("username: 3-150 letters, digits or . @ + - _", details={"field": "username"})
    if role not in roles.ALL_ROLES:
        raise ValidationFailed("role: unknown role.", details={"field": "role"})
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken()
    user = User(username=username, email=email,
                display_name=clean_text(display_name, field="display_name", max_length=50, required=False),
                region=region)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword(" ".join(exc.messages))
    user.set_password(password)
    user.is_staff = role in roles.STAFF_ROLES if is_staff is None else is_staff
    user.save()
    _add_group(user, role)
    if role != roles.BUYER:  # a staff or host account: its roles and region are audited from the start
        audit_access_change(actor=None, user=user, before=access_of(User()))
    return user


@transaction.atomic
@transaction.atomic
def update_display_name(*, user: User, display_name: str) -> User:
    """The name others see (chat, reviews); empty falls back to the username. Up to 50 characters, one line."""
    name = clean_text(display_name, field="display_name", max_length=50, required=False)
    User.objects.filter(pk=user.pk).update(display_name=name)
    user.display_name = name
    return user


@transaction.atomic
def grant_role(*, user: User, role: str, actor: User | None = None) -> None:
    """Add `role` to the user's roles; audited unless it is the buyer role every account starts with."""
    before = access_of(user)
    _add_group(user, role)
    if role != roles.BUYER:
        audit_access_change(actor=actor, user=user, before=before)


def _add_group(user: User, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if hasattr(user, "_role_cache"):
        del user._role_cache


def access_of(user: User) -> dict[str, object]:
    """What a user may reach: roles, region, staff and superuser flags, whether the account is active
    (the before/after of the audit log's role and region entries)."""
    region = user.region if user.region_id else None
    return {"roles": sorted(user.groups.values_list("name", flat=True)) if user.pk else [],
            "region": getattr(region, "path", None), "is_staff": user.is_staff,
            "is_superuser": user.is_superuser, "is_active": user.is_active}


def audit_access_change(*, actor: User | None, user: User, before: dict[str, object]) -> None:
    """Record a change of the user's roles (and flags) and of their region, compared with `before`
    (access_of taken before the change). Called by grant_role and the user admin."""
    user = User.objects.select_related("region").get(pk=user.pk)
    after = access_of(user)
    role_keys = ("roles", "is_staff", "is_superuser", "is_active")
    if any(before[k] != after[k] for k in role_keys):
        record_action(actor=actor, action="accounts.roles_changed", subject=user, region=user.region,
                      before={k: before[k] for k in role_keys}, after={k: after[k] for k in role_keys})
    if before["region"] != after["region"]:
        record_action(actor=actor, action="accounts.region_changed", subject=user, region=user.region,
                      before={"region": before["region"]}, after={"region": after["region"]})


def register_buyer(*, username: str, password: str, display_name: str = "") -> User:
    return create_user(username=username, password=password, role=roles.BUYER, display_name=display_name)


def issue_token(*, username: str, password: str, request: HttpRequest | None = None) -> tuple[User, str]:
    """Exchange a username and password for a new bearer token (returned once, stored hashed), valid for
    settings.API_TOKEN_TTL_DAYS. With `request`, django-axes throttles failures (accounts/throttle.py).
    Not one transaction: the failure axes records must stay when the sign-in is refused."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        if request is not None and getattr(request, "axes_locked_out", False):
            from .throttle import cool_off_seconds  # throttle imports this module's errors and models only

            raise TooManyAttempts(retry_after=cool_off_seconds())
        raise BadCredentials()
    if request is not None:
        # A token is a sign-in: axes clears this username and address's failures, Django sets last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
    return user, _new_token(user=user)


@transaction.atomic
def _new_token(*, user: User) -> str:
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])  # expires_at: default
    transaction.on_commit(lambda: tokencache.remember({token.key_hash: user.pk},
                                                      expires={token.key_hash: token.expires_at}))
    return raw


def token_for(raw: str) -> ApiToken | None:
    """The live token (known, not expired, of an active user) for this raw bearer token."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash(raw)).first()
    if token is None or not token.user.is_active or token.expires_at <= timezone.now():
        return None
    return token


def user_for_token(raw: str) -> User | None:
    token = token_for(raw)
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # for the purchase fast path
        tokencache.remember({token.key_hash: token.user_id}, expires={token.key_hash: token.expires_at})
    return token.user


@transaction.atomic
def revoke_token(*, raw: str) -> bool:
    """Delete the token presented as `raw` (its cache entry goes after commit); False if it was not live."""
    token = token_for(raw)
    if token is None:
        return False
    token.delete()
    return True


@transaction.atomic
def revoke_all_tokens(*, user: User) -> int:
    """Delete every token of `user` (on a password change, accounts/receivers.py)."""
    tokens = list(ApiToken.objects.filter(user=user))
    for token in tokens:
        token.delete()  # post_delete drops each from the fast path's cache
    return len(tokens)
