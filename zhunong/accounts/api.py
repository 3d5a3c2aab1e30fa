from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from . import services
from .auth import auth_required

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    user_id: int
    username: str


class RegisterIn(Schema):
    username: str = Field(min_length=3, max_length=150)
    password: str = Field(min_length=8, max_length=128)
    display_name: str = Field(default="", max_length=50)


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | None = None


def _user_out(user) -> dict:  # noqa: ANN001
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "roles": sorted(user.groups.values_list("name", flat=True))}


@router.post("/auth/token", response={200: TokenOut, 401: ErrorOut, 422: ErrorOut}, auth=None)
def obtain_token(request, payload: TokenIn):  # noqa: ANN001, ANN201
    user, raw = services.issue_token(username=payload.username, password=payload.password)
    return {"token": raw, "user_id": user.id, "username": user.username}


@router.post("/auth/register", response={201: UserOut, 409: ErrorOut, 422: ErrorOut}, auth=None)
def register(request, payload: RegisterIn):  # noqa: ANN001, ANN201
    user = services.register_buyer(username=payload.username, password=payload.password,
                                   display_name=payload.display_name)
    return 201, _user_out(user)


@router.get("/auth/me", response={200: UserOut, 401: ErrorOut}, auth=auth_required)
def me(request):  # noqa: ANN001, ANN201
    return _user_out(request.user)
