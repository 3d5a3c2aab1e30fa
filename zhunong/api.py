"""The JSON API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Every error is JSON: `{"code": "<stable_code>", "message": "<human text>", "details": {...}}`.
Each app contributes a `router` in its own `api.py`.
"""

from __future__ import annotations

from importlib import import_module

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from zhunong.core.errors import DomainError

api = NinjaAPI(
    title="zhunong API",
    version="1",
    description="助农直播 platform API. Errors: {code, message, details}. Auth: `Authorization: Bearer <token>`"
                " from POST /api/v1/auth/token.",
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, details=None):  # noqa: ANN001, ANN201
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):  # noqa: ANN001, ANN201
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):  # noqa: ANN001, ANN201
    errors = [{"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in exc.errors]
    return _error(request, 422, "invalid", "Invalid input.", {"errors": errors})


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):  # noqa: ANN001, ANN201
    return _error(request, 401, "not_authenticated", "Authentication required: send a bearer token.")


@api.exception_handler(Http404)
def _not_found(request, exc):  # noqa: ANN001, ANN201
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):  # noqa: ANN001, ANN201
    return _error(request, exc.status_code, getattr(exc, "code", "error"), str(exc))


ROUTER_APPS = ["accounts", "producers", "catalog", "quality", "live", "video", "orders", "payments", "fulfilment",
               "supervision", "insights"]

for _app in ROUTER_APPS:
    _module_name = f"zhunong.{_app}.api"
    try:
        _module = import_module(_module_name)
    except ModuleNotFoundError as exc:
        if exc.name != _module_name:
            raise
        continue
    router = getattr(_module, "router", None)
    if router is not None:
        api.add_router("/", router)
