"""Writes for users, roles and API tokens."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from zhunong.core.errors import ValidationFailed
from zhunong.core.text import clean_text

from . import roles, tokencache
from .errors import BadCredentials, UsernameTaken, WeakPassword
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
    grant_role(user=user, role=role)
    return user


@transaction.atomic
def grant_role(*, user: User, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if hasattr(user, "_role_cache"):
        del user._role_cache


def register_buyer(*, username: str, password: str, display_name: str = "") -> User:
    return create_user(username=username, password=password, role=roles.BUYER, display_name=display_name)


@transaction.atomic
def issue_token(*, username: str, password: str) -> tuple[User, str]:
    """Exchange a username and password for a new bearer token (returned once, stored hashed)."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise BadCredentials()
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    transaction.on_commit(lambda: tokencache.remember({token.key_hash: user.pk}))
    return user, raw


def user_for_token(raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        tokencache.remember({token.key_hash: token.user_id})  # for the purchase fast path
    return token.user
