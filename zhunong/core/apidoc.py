"""How an API operation declares its answers: the one way, so the OpenAPI document and the code cannot drift.

Use it in every `@router.<method>(...)`::

    from zhunong.core.apidoc import responses

    @router.post("/orders/{order_id}/cancel",
                 response=responses({200: OrderOut}, OrderNotFound, NotYourOrder, InvalidTransition))

`responses(success, *errors)` returns the `response=` dict for django-ninja:

- `success` maps each success status to its schema (`{200: Out}`, `{201: Out}`, `{204: None}`).
- each error is a `DomainError` subclass (its `status` and `code` are read from the class), or a
  `(status, ErrorClass)` pair when a service raises the class with another status (fulfilment answers
  `refund_exceeds_paid` 422), or a `(status, "code")` pair for a code raised without a class of its own.

Each error status gets an error body schema `{code, message, details?}` whose `code` is an enum of exactly
the codes that status can carry. The answers every operation of a kind can give are added by
`complete_openapi()` (zhunong/api.py runs it on the generated document), so no operation has to list them:

| when the operation has | it also answers |
|---|---|
| a security requirement (a token is needed) | 401 `not_authenticated` |
| path, query, header or body parameters | 422 `invalid` (the schema's own validation) |
| a JSON request body | 400 `bad_request` (not a JSON object, or a lone UTF-16 surrogate) |
| the session cookie as a way in, and a method that changes data | 403 `permission_denied` (CSRF check) |

Declare everything else the operation's code can raise: 403 `permission_denied` when a policy check
refuses, each `*NotFound`, each conflict. zhunong/core/tests/test_apidoc.py walks the document and the error
classes: a declared code without an error class, or an error class no operation declares, fails it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, create_model

from zhunong.core.errors import DomainError

# Codes the API layer itself answers (zhunong/api.py), by status: they have no DomainError class.
GENERIC_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request",),
    401: ("not_authenticated",),
    403: ("permission_denied",),
    404: ("not_found",),
    422: ("invalid",),
}

ErrorSpec = type[DomainError] | tuple[int, type[DomainError] | str]

_MODELS: dict[tuple[int, tuple[str, ...]], type[Schema]] = {}
_PREFIX = "ApidocError"


def error_codes(*errors: ErrorSpec) -> dict[int, tuple[str, ...]]:
    """The codes each status carries, sorted: `{404: ("order_not_found",), 409: (...)}`."""
    by_status: dict[int, set[str]] = {}
    for spec in errors:
        if isinstance(spec, tuple):
            status, what = spec
            code = what if isinstance(what, str) else what.code
        elif isinstance(spec, type) and issubclass(spec, DomainError):
            status, code = spec.status, spec.code
        else:
            raise TypeError(f"an error is a DomainError subclass or a (status, class or code) pair, not {spec!r}")
        if not 400 <= status <= 599:
            raise ValueError(f"{code}: {status} is not an error status")
        by_status.setdefault(status, set()).add(code)
    return {status: tuple(sorted(codes)) for status, codes in sorted(by_status.items())}


def error_schema(status: int, codes: tuple[str, ...]) -> type[Schema]:
    """The error body of one status whose `code` is one of `codes` (one model per distinct set)."""
    key = (status, tuple(sorted(set(codes))))
    model = _MODELS.get(key)
    if model is None:
        digest = hashlib.sha1(",".join(key[1]).encode()).hexdigest()[:10]
        model = create_model(
            f"{_PREFIX}{status}_{digest}",
            __base__=Schema,
            code=(Literal[key[1]], Field(description="stable machine-readable code; branch on it")),
            message=(str, Field(description="for people")),
            details=(dict[str, Any] | None, Field(default=None, description="optional; `field` names the input")),
        )
        _MODELS[key] = model
    return model


def responses(success: dict[int, Any], *errors: ErrorSpec) -> dict[int, Any]:
    """The `response=` dict of an operation: its success schemas and an error schema per error status."""
    result: dict[int, Any] = dict(success)
    for status, codes in error_codes(*errors).items():
        if status in result:
            raise ValueError(f"status {status} is declared as a success and as an error")
        result[status] = error_schema(status, codes)
    return result


# --- the generated document ----------------------------------------------------------------------------


def _codes_of(response: dict, components: dict) -> list[str] | None:
    """The codes a response's schema allows; None when its `code` is any string (not declared with `responses`)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    code = schema.get("properties", {}).get("code", {})
    if "const" in code:
        return [code["const"]]
    if "enum" in code:
        return list(code["enum"])
    return None


def _inline_error(codes: list[str] | None) -> dict:
    code: dict[str, Any] = {"type": "string", "description": "stable machine-readable code; branch on it"}
    if codes is not None:
        code["enum"] = sorted(set(codes))
    return {
        "title": "Error",
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": code,
            "message": {"type": "string", "description": "for people"},
            "details": {"anyOf": [{"type": "object"}, {"type": "null"}],
                        "description": "optional; `field` names the input"},
        },
    }


def generic_statuses(operation: dict, method: str = "get", schemes: dict | None = None) -> dict[int, tuple[str, ...]]:
    """The answers the API layer gives to any operation of this shape (see the module's table)."""
    extra: dict[int, tuple[str, ...]] = {}
    schemes = schemes or {}
    if operation.get("security"):
        extra[401] = GENERIC_CODES[401]
    if operation.get("parameters") or operation.get("requestBody"):
        extra[422] = GENERIC_CODES[422]
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        extra[400] = GENERIC_CODES[400]
    if method not in _SAFE_METHODS and any(
            schemes.get(name, {}).get("in") == "cookie" for requirement in operation.get("security") or []
            for name in requirement):
        extra[403] = GENERIC_CODES[403]
    return extra


_SAFE_METHODS = {"get", "head", "options"}


def complete_openapi(schema: dict) -> dict:
    """Add the generic answers to every operation and write each error body inline with its exact codes.

    Every error response becomes `{code (enum), message, details}`; the generated error components are
    dropped (they were only carriers of their codes).
    """
    components = schema.get("components", {}).get("schemas", {})
    schemes = schema.get("components", {}).get("securitySchemes", {})
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = operation["responses"]
            codes: dict[int, list[str] | None] = {}
            for status, response in answers.items():
                if int(status) >= 400:
                    codes[int(status)] = _codes_of(response, components)
            for status, generic in generic_statuses(operation, method, schemes).items():
                if status not in codes:
                    codes[status] = list(generic)
                elif codes[status] is not None:
                    codes[status].extend(generic)
            for status, status_codes in sorted(codes.items()):
                answers[str(status)] = {
                    "description": answers.get(str(status), answers.get(status, {})).get("description")
                    or _DESCRIPTIONS.get(status, "Error"),
                    "content": {"application/json": {"schema": _inline_error(status_codes)}},
                }
                answers.pop(status, None)
            operation["responses"] = {str(status): answer
                                      for status, answer in sorted(answers.items(), key=lambda item: int(item[0]))}
    for name in [n for n in components if n.startswith(_PREFIX)]:
        del components[name]
    return schema


def declared_codes(operation: dict) -> dict[int, set[str] | None]:
    """The error codes a completed operation declares, by status; None for a status whose code is any string."""
    found: dict[int, set[str] | None] = {}
    for status, response in operation.get("responses", {}).items():
        if int(status) >= 400:
            codes = _codes_of(response, {})
            found[int(status)] = None if codes is None else set(codes)
    return found


_DESCRIPTIONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                 422: "Unprocessable Content", 429: "Too Many Requests", 502: "Bad Gateway",
                 503: "Service Unavailable"}


# --- links: which operation's answer gives the ids another operation takes --------------------------------


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _success_fields(operation: dict, components: dict) -> tuple[str, set[str]] | None:
    for status in ("201", "200"):
        response = operation.get("responses", {}).get(status)
        if response:
            schema = _resolve(response.get("content", {}).get("application/json", {}).get("schema", {}), components)
            return status, set(schema.get("properties", {}))
    return None


def _consumers(schema: dict, components: dict) -> dict[str, list[tuple[str, str, str]]]:
    """Each parameter or top-level body field name -> the operations taking it: (operationId, where, name)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query"):
                    found.setdefault(parameter["name"], []).append(
                        (operation["operationId"], parameter["in"], parameter["name"]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                for field, field_schema in _resolve(body, components).get("properties", {}).items():
                    kind = "body-list" if _resolve(field_schema, components).get("type") == "array" else "body"
                    found.setdefault(field, []).append((operation["operationId"], kind, field))
    return found


def add_links(schema: dict, *, created: dict[str, str], fields: dict[str, dict[str, str]]) -> dict:
    """OpenAPI links from the answers that carry an id to the operations that take it, so a client (and
    schemathesis' stateful phase) can follow: producer -> plot -> batch -> product -> stream -> order ...

    `created` maps a creating operation's operationId to the name its answer's `id` goes by elsewhere
    (`producer_id`); `fields` maps an operationId to more names and where its answer holds them
    (`{"order_line_id": "/lines/0/id"}`). A path, query or body field of that name, or a list field of the
    name plus `s` (`producer_ids`), gets the value.
    """
    components = schema.get("components", {}).get("schemas", {})
    consumers = _consumers(schema, components)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            names = list(fields.get(op_id, {}).items())
            if op_id in created:
                names.insert(0, (created[op_id], "/id"))
            success = _success_fields(operation, components)
            if not names or success is None:
                continue
            status, _ = success
            links: dict[str, dict] = {}
            for name, pointer in names:
                expression = f"$response.body#{pointer}"
                for target, where, taken in consumers.get(name, []) + consumers.get(name + "s", []):
                    if target == op_id:
                        continue
                    link = links.setdefault(target, {"operationId": target})
                    if where in ("path", "query"):
                        link.setdefault("parameters", {})[taken] = expression
                    elif where == "body-list":
                        link.setdefault("requestBody", {})[taken] = [expression]
                    else:
                        link.setdefault("requestBody", {})[taken] = expression
            if links:
                operation["responses"][status]["links"] = dict(sorted(links.items()))
    return schema
