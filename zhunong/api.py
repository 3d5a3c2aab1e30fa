"""The JSON API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Every error is JSON: `{"code": "<stable_code>", "message": "<human text>", "details": {...}}`.
Each app contributes a `router` in its own `api.py`.
"""

from __future__ import annotations

import json
import logging
import os
import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from zhunong.accounts.api import router as accounts_router
from zhunong.catalog.api import router as catalog_router
from zhunong.catalog.api_photos import router as catalog_photos_router
from zhunong.core.apidoc import add_links, complete_openapi, declared_codes
from zhunong.core.errors import DomainError
from zhunong.fulfilment.api import router as fulfilment_router
from zhunong.live.api import router as live_router
from zhunong.live.api_hosts import router as live_hosts_router
from zhunong.notifications.api import router as notifications_router
from zhunong.orders.api import router as orders_router
from zhunong.payments.api import router as payments_router
from zhunong.producers.api import router as producers_router
from zhunong.quality.api import router as quality_router
from zhunong.supervision.api import router as supervision_router
from zhunong.video.api import router as video_router

log = logging.getLogger(__name__)


class StrictJSONParser(Parser):
    """JSON bodies must be valid UTF-8 text: a lone surrogate escape ("\\ud800") parses in Python but
    cannot be stored or hashed, so it is refused here (400 `bad_request`) rather than failing later.
    Every request body of the API is a JSON object: anything else (`[null, null]`) is refused the same
    way, since ninja's schemas would otherwise read a list's missing attributes as their defaults."""

    def parse_body(self, request):  # noqa: ANN001, ANN201
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # raises UnicodeEncodeError on surrogates
        return data


class UTF8JSONRenderer(JSONRenderer):
    # Chinese text stays readable in responses and curl output; the body is UTF-8 and says so.
    json_dumps_params = {"ensure_ascii": False}


# What the `id` a creating operation answers is called where other operations take it (OpenAPI links).
CREATED_IDS = {
    "zhunong_producers_api_create_producer": "producer_id",
    "zhunong_producers_api_create_plot": "plot_id",
    "zhunong_producers_api_create_batch": "batch_id",
    "zhunong_catalog_api_create_product": "product_id",
    "zhunong_live_api_schedule_stream": "stream_id",
    "zhunong_orders_api_start_flash_sale": "sale_id",
    "zhunong_orders_api_release_coupon": "coupon_id",
    "zhunong_orders_api_create_order": "order_id",
    "zhunong_fulfilment_api_request_after_sales": "request_id",
    "zhunong_fulfilment_api_file_complaint": "complaint_id",
    "zhunong_fulfilment_api_create_pledge": "pledge_id",
    "zhunong_fulfilment_api_submit_claim": "claim_id",
}
# More of an answer that other operations take: name there -> where it is in the answer.
LINKED_FIELDS = {
    "zhunong_accounts_api_me": {"host_id": "/host_id"},
    "zhunong_producers_api_create_batch": {"code": "/trace_code", "trace_code": "/trace_code"},
    "zhunong_orders_api_create_order": {"order_line_id": "/lines/0/id"},
    "zhunong_live_api_schedule_stream": {"product_id": "/product_ids/0"},
    # Lists hand over the first item's id, so the demo county's own objects are reached too.
    "zhunong_producers_api_list_producers": {"producer_id": "/items/0/id"},
    "zhunong_producers_api_list_plots": {"plot_id": "/items/0/id"},
    "zhunong_producers_api_list_batches": {"batch_id": "/items/0/id", "code": "/items/0/trace_code",
                                           "trace_code": "/items/0/trace_code"},
    "zhunong_catalog_api_list_products": {"product_id": "/items/0/id"},
    "zhunong_catalog_api_list_staff_products": {"product_id": "/items/0/id"},
    # A product taken off the shelf can be listed again.
    "zhunong_catalog_api_delist_product": {"product_id": "/id"},
    "zhunong_live_api_list_streams": {"stream_id": "/items/0/id"},
    "zhunong_live_api_list_channels": {"channel_id": "/0/id"},
    "zhunong_video_api_replays": {"replay_id": "/items/0/id"},
    "zhunong_orders_api_list_orders": {"order_id": "/items/0/id", "order_line_id": "/items/0/lines/0/id"},
    "zhunong_fulfilment_api_list_shipments": {"shipment_id": "/0/id"},
    "zhunong_fulfilment_api_list_after_sales": {"request_id": "/0/id"},
    "zhunong_fulfilment_api_list_complaints": {"complaint_id": "/0/id"},
    "zhunong_fulfilment_api_list_claims": {"claim_id": "/0/id"},
    "zhunong_fulfilment_api_list_pledges": {"pledge_id": "/0/id"},
    "zhunong_supervision_api_list_flags": {"flag_id": "/0/id"},
    "zhunong_notifications_api_list_notifications": {"notification_id": "/items/0/id"},
    "zhunong_notifications_api_list_follows": {"host_id": "/hosts/0", "channel_id": "/channels/0"},
}


class ZhunongAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):  # noqa: ANN001, ANN201
        # Every operation's generic answers (401, 422, 400) and exact error codes, and the links from the
        # answers that carry ids to the operations that take them: core/apidoc.py.
        schema = complete_openapi(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))
        return add_links(schema, created=CREATED_IDS, fields=LINKED_FIELDS)


api = ZhunongAPI(
    title="zhunong API",
    version="1",
    description="助农直播 platform API. Errors: {code, message, details}. Auth: `Authorization: Bearer <token>`"
                " from POST /api/v1/auth/token.",
    urls_namespace="api",
    parser=StrictJSONParser(),
    renderer=UTF8JSONRenderer(),
)


# With ZHUNONG_API_STRICT_ANSWERS=1 (the test suite and CI's schemathesis run set it) an error answer that
# the operation does not declare in the OpenAPI document is a bug: it is logged and answered 500, so the
# tests that reach it fail. Otherwise it is only logged.
_STRICT_ANSWERS = os.environ.get("ZHUNONG_API_STRICT_ANSWERS") == "1"
_declared: dict[tuple[str, str], dict[int, set[str] | None]] = {}


def _undeclared(request, status: int, code: str) -> bool:  # noqa: ANN001
    """Whether this operation's document leaves out this answer (logged); unknown routes count as declared."""
    match = getattr(request, "resolver_match", None)
    if code == "server_error" or match is None or not match.route:
        return False
    if not _declared:
        for path, item in api.get_openapi_schema().get("paths", {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    _declared[(method.upper(), path)] = declared_codes(operation)
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)
    codes = _declared.get((request.method, path))
    if codes is None:
        return False
    allowed = codes.get(status, set())
    if allowed is None or code in allowed:
        return False
    log.error("undeclared answer %s %s on %s %s (declare it with core.apidoc.responses)", status, code,
              request.method, path)
    return True


def _error(request, status: int, code: str, message: str, details=None):  # noqa: ANN001, ANN201
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    if _undeclared(request, status, code) and _STRICT_ANSWERS:
        return api.create_response(request, {"code": "server_error", "message": f"Undeclared answer {status} "
                                             f"{code}."}, status=500)
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):  # noqa: ANN001, ANN201
    response = _error(request, exc.status, exc.code, str(exc.message), exc.details)
    # A throttle (429) or a passing outage (503) says when to come back in its details; HTTP says it in
    # Retry-After too (RFC 9110 §10.2.3), so clients and proxies need not read the body.
    retry = exc.details.get("retry_after") if isinstance(exc.details, dict) else None
    if response.status_code in (429, 503) and isinstance(retry, int) and not isinstance(retry, bool) and retry >= 0:
        response["Retry-After"] = str(retry)
    return response


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):  # noqa: ANN001, ANN201
    errors = [{"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in exc.errors]
    message = "Invalid input."
    if errors:
        # Name the first offending field in the message: ["body", "payload", "price"] -> "price".
        loc = [p for p in errors[0]["loc"] if p not in ("body", "query", "path", "payload", "filters")]
        message = f"{'.'.join(loc) or 'input'}: {errors[0]['msg']}"
    return _error(request, 422, "invalid", message, {"errors": errors})


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):  # noqa: ANN001, ANN201
    return _error(request, 401, "not_authenticated", "Authentication required: send a bearer token.")


@api.exception_handler(Http404)
def _not_found(request, exc):  # noqa: ANN001, ANN201
    return _error(request, 404, "not_found", "Not found.")


_HTTP_ERROR_CODES = {400: "bad_request", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                     405: "method_not_allowed", 429: "throttled"}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):  # noqa: ANN001, ANN201
    code = getattr(exc, "code", None) or _HTTP_ERROR_CODES.get(exc.status_code, "error")
    return _error(request, exc.status_code, code, str(exc))


@api.exception_handler(DjangoPermissionDenied)
def _django_permission_denied(request, exc):  # noqa: ANN001, ANN201
    return _error(request, 403, "permission_denied", "You are not allowed to do this.")


@api.exception_handler(MultiPartParserError)
def _malformed_multipart(request, exc):  # noqa: ANN001, ANN201
    # A multipart body Django cannot parse (no boundary, a broken part): the client's mistake, never a 500.
    return _error(request, 400, "bad_request", f"Malformed multipart body: {exc}")


@api.exception_handler(Exception)
def _server_error(request, exc: Exception):  # noqa: ANN001, ANN201
    # Still JSON for clients; the traceback goes to the log, never into the response.
    log.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", "Internal server error.")


# Mounted in this order (it is the order of the OpenAPI document); each router chooses its own prefixes.
for _router in [accounts_router, producers_router, catalog_router, catalog_photos_router, quality_router, live_router,
                live_hosts_router, video_router, orders_router, payments_router, fulfilment_router, supervision_router,
                notifications_router]:
    api.add_router("/", _router)
