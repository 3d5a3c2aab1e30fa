"""Auth endpoints, and the pieces every app's API shares: the error schema, id type, staff check."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Router, Schema, Status
from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from zhunong.core.apidoc import responses
from zhunong.core.errors import PermissionDenied
from zhunong.core.schemas import RequestSchema
from zhunong.core.text import has_control_chars

from . import policy, selectors, services, throttle
from .auth import auth_required, bearer
from .errors import BadCredentials, TooManyAttempts, UsernameTaken, WeakPassword
from .models import ApiToken, User

router = Router(tags=["auth"])

# Database ids are 64-bit; anything larger cannot exist and must not reach the database driver.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code, e.g. `below_cost_without_reason`.")
    message: str = Field(description="Human-readable message.")
    details: dict | None = Field(default=None, description="Extra data, e.g. `{\"field\": \"price\"}`.")


# The characters core.text.clean_text refuses, as JSON-Schema patterns, so the OpenAPI document says
# what the services enforce. Documented only (json_schema_extra): the services' own messages
# ("name: contains control characters.") are clearer than a regex mismatch.
_FORBIDDEN = "\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
_LINE_FORBIDDEN = "\\x00-\\x08\\x0a-\\x1f" + _FORBIDDEN  # tab allowed; no line breaks
_TEXT_FORBIDDEN = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f" + _FORBIDDEN  # tab, LF and CR allowed
# Text without the characters has_control_chars refuses (a search query, a password).
TEXT_PATTERN = f"^[^{_TEXT_FORBIDDEN}]*$"


def text_field(default: object = ..., *, max_length: int, required: bool = False, multiline: bool = False,
               description: str | None = None):  # noqa: ANN201
    """A text field: at most `max_length` characters, no control characters; `required`: not blank."""
    bad = _TEXT_FORBIDDEN if multiline else _LINE_FORBIDDEN
    pattern = f"^[^{bad}]*[^{bad}\\s][^{bad}]*$" if required else f"^[^{bad}]*$"
    return Field(default, min_length=1 if required else None, max_length=max_length, description=description,
                 json_schema_extra={"pattern": pattern})


# Searched like the document's patterns are (JSON Schema tools in Python use re.search, whose `$` also
# matches before a final newline, which Decimal then ignores).
_DECIMAL_FORM = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def line_pattern(min_length: int, max_length: int) -> str:
    """One line of text as core.text.clean_text takes it: `min_length`-`max_length` characters once stripped,
    no control characters (for a field whose service gives its own error code, so pydantic must not refuse)."""
    bad = _LINE_FORBIDDEN
    return f"^(?=[^{bad}]{{{min_length},{max_length}}}$)[^{bad}\\s]([^{bad}]*[^{bad}\\s])?$"


def decimal_field(*, le: int, places: int = 2, gt: int | None = None, ge: int | None = None,
                  description: str | None = None):  # noqa: ANN201
    """A money or quantity amount, as a JSON number or a decimal string, whose schema states every bound.

    `le` is a power of ten (1000000) or one less (99999999); the lower bound is `gt=0` or `ge=0`. The string
    form is plain digits with at most `places` decimals ("12.50"): exactly what the pattern in the document
    says, so a string the schema allows is never refused and one it refuses is never taken ("1e3", "+5", " 5").
    """
    digits = len(str(le))
    fraction = rf"(\.[0-9]{{1,{places}}})?"
    if le == 10 ** (digits - 1):
        body = rf"[0-9]{{1,{digits - 1}}}{fraction}|{le}(\.0{{1,{places}}})?"
    elif le == 10 ** digits - 1:
        body = rf"[0-9]{{1,{digits - 1}}}{fraction}|[0-9]{{{digits}}}"  # whole numbers only at the top digit count
    else:
        raise ValueError("le: a power of ten, or one less")
    pattern = ("^(?!0+(\\.0+)?$)" if gt is not None else "^") + f"(?:{body})$"
    number: dict = {"type": "number", "maximum": le, "multipleOf": float(Decimal(1).scaleb(-places))}
    number["exclusiveMinimum" if gt is not None else "minimum"] = gt if gt is not None else ge

    def check(value: object) -> object:
        # The form only; pydantic then checks the bounds and decimals (with its usual messages).
        if isinstance(value, bool):
            raise ValueError("must be a number")  # noqa: TRY004 (pydantic reports ValueError as a field error)
        if isinstance(value, str) and not _DECIMAL_FORM.search(value):
            raise ValueError(f"a number with at most {places} decimals written as digits, e.g. \"12.50\"")
        return value

    schema = {"anyOf": [number, {"type": "string", "pattern": pattern}]}
    if description:
        schema["description"] = description
    return Annotated[Decimal, BeforeValidator(check),
                     Field(gt=gt, ge=ge, le=le, decimal_places=places, max_digits=digits + places),
                     WithJsonSchema(schema)]


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Declare error responses for the OpenAPI document (every error has the ErrorOut shape)."""
    return {status: ErrorOut for status in statuses}


def back_office_user(request) -> User:  # noqa: ANN001
    """The authenticated user, if they hold a back-office role; PermissionDenied (403) otherwise."""
    user = request.auth
    policy.require(user, "backoffice.view", error=PermissionDenied(
        "The back office is open to platform admins, county operators, regulators and producer managers."))
    return user


class TokenIn(RequestSchema):
    username: str = Field(min_length=1, max_length=150, json_schema_extra={"pattern": f"^[^{_TEXT_FORBIDDEN}]*$"})
    password: str = Field(min_length=1, max_length=128, json_schema_extra={"pattern": f"^[^{_TEXT_FORBIDDEN}]*$"})

    @field_validator("username", "password")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        # Checked before any database lookup: PostgreSQL refuses NUL in a query parameter.
        if has_control_chars(value):
            raise ValueError("contains control characters")
        return value


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    user_id: int
    username: str


class RegisterIn(RequestSchema):
    # The service's own rules (accounts/services.py), stated here; what depends on the password validators
    # (a common password, one like the username, digits only) is 422 weak_password.
    username: str = Field(min_length=3, max_length=150, json_schema_extra={"pattern": r"^[\w.@+-]{3,150}$"},
                          description="3-150 letters, digits or . @ + - _ (unique, case-insensitive: 409 username_taken)")
    password: str = Field(min_length=8, max_length=128, json_schema_extra={"pattern": f"^[^{_TEXT_FORBIDDEN}]*$"},
                          description="at least 8 characters; a common password, one like the username or digits "
                                      "only is refused with 422 weak_password")
    display_name: str = text_field("", max_length=50)

    @field_validator("password")
    @classmethod
    def _password_text(cls, value: str) -> str:
        # What the document's pattern says of a password, so a schema-violating one is refused.
        if has_control_chars(value):
            raise ValueError("contains control characters")
        return value


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


def _user_out(user) -> dict:  # noqa: ANN001
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "roles": sorted(user.groups.values_list("name", flat=True))}


def _too_many(exc: TooManyAttempts) -> JsonResponse:
    response = JsonResponse(exc.as_dict(), status=429, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(exc.retry_after)
    return response


class TokenInfoOut(Schema):
    id: int
    prefix: str = Field(description="The token's first 8 characters (the secret itself is never shown again).")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most every 5 minutes.")
    expires_at: datetime
    current: bool = Field(description="True for the token that authenticated this request.")


@router.post("/auth/token", response=responses({200: TokenOut}, BadCredentials, TooManyAttempts), auth=None)
def obtain_token(request, payload: TokenIn):  # noqa: ANN001, ANN201
    """A new bearer token, valid for `API_TOKEN_TTL_DAYS` days. Failed attempts are throttled per username and
    address: over the limit, `429 too_many_attempts` with `Retry-After` (docs/api.md)."""
    # django-axes records a failure's form fields. A malformed form body (multipart without a boundary) raises
    # once, here, and Django then leaves request.POST empty, so axes' read cannot turn the refusal into a 500.
    with contextlib.suppress(MultiPartParserError):
        request.POST  # noqa: B018
    try:
        user, raw = services.issue_token(username=payload.username, password=payload.password, request=request)
    except TooManyAttempts as exc:
        return _too_many(exc)
    return {"token": raw, "user_id": user.id, "username": user.username}


@router.delete("/auth/token", response=responses({204: None}), auth=bearer)
def revoke_token(request):  # noqa: ANN001, ANN201
    """Revoke the bearer token this request presents (sign out of this client)."""
    services.revoke_token(raw=bearer.presented(request))
    return Status(204, None)


@router.get("/auth/tokens", response=responses({200: list[TokenInfoOut]}), auth=auth_required)
def list_tokens(request):  # noqa: ANN001, ANN201
    """The caller's live tokens, newest first (never the secret)."""
    presented = bearer.presented(request)
    current = ApiToken.hash(presented) if presented else None
    return [{"id": t.id, "prefix": t.prefix, "created_at": t.created_at, "last_used_at": t.last_used_at,
             "expires_at": t.expires_at, "current": t.key_hash == current}
            for t in selectors.live_tokens(request.user)]


@router.post("/auth/register", response=responses({201: UserOut}, UsernameTaken, WeakPassword, TooManyAttempts),
             auth=None)
def register(request, payload: RegisterIn):  # noqa: ANN001, ANN201
    """Register a buyer. Throttled per address: over the limit, `429 too_many_attempts` with `Retry-After`."""
    try:
        throttle.check_registration(request)
    except TooManyAttempts as exc:
        return _too_many(exc)
    user = services.register_buyer(username=payload.username, password=payload.password,
                                   display_name=payload.display_name)
    return Status(201, _user_out(user))


class MeOut(UserOut):
    host_id: int | None = Field(description="the caller's host profile, the host_id POST /live/streams takes "
                                            "(null for an account that is not a host)")


@router.get("/auth/me", response=responses({200: MeOut}), auth=auth_required)
def me(request):  # noqa: ANN001, ANN201
    # The reverse one-to-one of live's Host (accounts sits below live and does not import it).
    host = getattr(request.user, "host_profile", None)
    return {**_user_out(request.user), "host_id": host.pk if host is not None else None}
