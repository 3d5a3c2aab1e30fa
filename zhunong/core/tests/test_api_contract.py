"""The OpenAPI document is the whole contract: walk it together with the error classes and docs/api.md.

Every error status of every operation names its codes (an enum); every code it names belongs to an error
class with that status (or is one the API layer answers itself), and docs/api.md lists it; an error class an
api.py imports is declared by one of its operations. A request body that is not a JSON object is refused
and changes nothing. (zhunong/api.py with ZHUNONG_API_STRICT_ANSWERS=1 turns any undeclared answer into a
500, so schemathesis and the suite catch a service raising what its operation does not declare.)
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re

import pytest
from django.conf import settings

import zhunong
from zhunong.core.apidoc import GENERIC_CODES, declared_codes, generic_statuses
from zhunong.core.errors import DomainError

# Codes raised without a class of their own (`DomainError(..., code=...)`), by status.
CLASSLESS_CODES = {
    (403, "cannot_view_inspections"),  # quality/api.py: the inspections list is for regulators, operators, managers
    (409, "session_expired"),  # payments/providers.py: the sandbox's checkout session ran out
}

def _document() -> dict:
    from zhunong.api import api

    return api.get_openapi_schema()


def _operations():  # noqa: ANN202
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, path, operation


def _error_classes() -> list[type[DomainError]]:
    for module in pkgutil.walk_packages(zhunong.__path__, "zhunong."):
        if module.name.endswith(".errors"):
            importlib.import_module(module.name)

    def walk(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *walk(direct))]

    return [cls for cls in walk(DomainError) if cls.__module__.startswith("zhunong.")
            and ".tests." not in cls.__module__ and not inspect.isabstract(cls)]


def _known_pairs() -> set[tuple[int, str]]:
    pairs = {(status, code) for status, codes in GENERIC_CODES.items() for code in codes}
    pairs |= {(cls.status, cls.code) for cls in _error_classes() if isinstance(getattr(cls, "status", None), int)}
    # A service may raise a class with another status (fulfilment answers refund_exceeds_paid 422).
    pairs |= {(422, "refund_exceeds_paid")}
    return pairs | CLASSLESS_CODES


def test_every_error_status_names_its_codes():
    loose = [(method, path, status) for method, path, op in _operations()
             for status, codes in declared_codes(op).items() if not codes]
    assert not loose, f"error answers whose code is any string (declare them with core.apidoc.responses): {loose}"


def test_every_declared_code_has_its_class_and_is_documented():
    known = _known_pairs()
    doc = (settings.BASE_DIR / "docs" / "api.md").read_text()
    unknown, undocumented = [], []
    for method, path, op in _operations():
        for status, codes in declared_codes(op).items():
            for code in codes or ():
                if (status, code) not in known:
                    unknown.append((method, path, status, code))
                if f"`{code}`" not in doc:
                    undocumented.append(code)
    assert not unknown, f"declared answers no error class gives: {unknown}"
    assert not sorted(set(undocumented)), f"docs/api.md does not list: {sorted(set(undocumented))}"


def test_errors_an_api_module_raises_itself_are_declared_by_its_operations():
    """An error class an api.py imports (to raise it, or to declare it) is declared by an operation of that
    module: a handler that raises StreamNotFound itself cannot forget to say so."""
    from zhunong.api import api

    # Which module each operation's handler lives in (a few keep an older operationId).
    module_of = {}
    for _, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                module_of[op.operation_id or api.get_openapi_operation_id(op)] = op.view_func.__module__
    declared: dict[str, set[str]] = {}
    for _, _, op in _operations():
        codes = {code for codes in declared_codes(op).values() for code in codes or ()}
        declared.setdefault(module_of.get(op.get("operationId"), ""), set()).update(codes)
    missing = []
    for module in pkgutil.iter_modules(zhunong.__path__):
        try:
            api_module = importlib.import_module(f"zhunong.{module.name}.api")
        except ModuleNotFoundError:
            continue
        for name, value in vars(api_module).items():
            if (inspect.isclass(value) and issubclass(value, DomainError) and value.__module__.endswith(".errors")
                    and value.__module__ != "zhunong.core.errors"
                    and value.code not in declared.get(api_module.__name__, set())):
                missing.append((module.name, name, value.code))
    assert not missing, f"error classes an api.py imports that none of its operations declares: {missing}"


def test_generic_answers_follow_the_operation_s_shape():
    schemes = _document()["components"].get("securitySchemes", {})
    for method, path, op in _operations():
        declared = declared_codes(op)
        for status, codes in generic_statuses(op, method, schemes).items():
            assert set(codes) <= (declared.get(status) or set()), (method, path, status)
        if op.get("security"):
            assert "not_authenticated" in declared[401], (method, path)


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_refused_and_changes_nothing(world):
    """`[null, null]` satisfies no request schema: it used to end a stream (ninja read a list's missing
    attributes as the schema's defaults)."""
    from django.test import Client

    from zhunong.accounts.services import issue_token
    from zhunong.testing import PASSWORD

    room = world.live_room(status="live").stream
    _, raw = issue_token(username=world.operator.username, password=PASSWORD)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for body in ("[null, null]", "[]", "null", "3", '"reason"'):
        response = client.post(f"/api/v1/live/streams/{room.pk}/end", data=body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["code"] == "bad_request"
    room.refresh_from_db()
    assert room.status == "live"
    response = client.post(f"/api/v1/live/streams/{room.pk}/end", data="{}", content_type="application/json")
    assert response.status_code == 200, response.content


def test_links_chain_the_operations_of_a_sale():
    """The document's links let a client (and schemathesis' stateful phase) walk the whole story with real
    ids: producer -> plot -> batch -> inspection and product -> stream -> flash sale, order -> pay, review,
    after-sales, complaint."""
    links = {}
    for _, _, op in _operations():
        for answer in op["responses"].values():
            for link in answer.get("links", {}).values():
                links.setdefault(op["operationId"], set()).add(link["operationId"])
    chain = [
        ("producers_api_create_producer", "producers_api_create_plot"),
        ("producers_api_create_plot", "producers_api_create_batch"),
        ("producers_api_create_batch", "quality_api_create_inspection"),
        ("producers_api_create_batch", "catalog_api_create_product"),
        ("catalog_api_create_product", "catalog_api_submit_product"),
        ("catalog_api_create_product", "live_api_schedule_stream"),
        ("live_api_schedule_stream", "live_api_start_stream"),
        ("live_api_schedule_stream", "orders_api_start_flash_sale"),
        ("live_api_schedule_stream", "orders_api_create_order"),
        ("orders_api_start_flash_sale", "orders_api_get_flash_sale"),
        ("orders_api_create_order", "payments_api_pay_order"),
        ("orders_api_create_order", "fulfilment_api_create_review"),
        ("orders_api_create_order", "fulfilment_api_request_after_sales"),
        ("orders_api_create_order", "fulfilment_api_file_complaint"),
        ("fulfilment_api_request_after_sales", "fulfilment_api_approve"),
    ]
    missing = [(a, b) for a, b in chain if f"zhunong_{b}" not in links.get(f"zhunong_{a}", set())]
    assert not missing, missing


def _body_schema(doc: dict, op: dict) -> dict | None:
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    components = doc["components"]["schemas"]
    while "$ref" in schema or "oneOf" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema["oneOf"][0]
    return schema


def _violations(schema: dict):  # noqa: ANN202
    """Bodies the schema refuses, one property at a time: a value of no declared type, and the lax forms of
    integers, numbers and booleans ("5", 5.0, 1) that strict request schemas refuse."""
    yield "[null, null]", 400
    if schema.get("required"):
        yield "{}", 422
    for name, prop in schema.get("properties", {}).items():
        yield json.dumps({name: [[["x"]]]}), 422
        types = {prop.get("type")} | {alt.get("type") for alt in prop.get("anyOf", [])}
        if "integer" in types and "string" not in types:
            yield json.dumps({name: "5"}), 422
            yield json.dumps({name: 5.5}), 422
        if "boolean" in types:
            yield json.dumps({name: 1}), 422


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.app_label not in ("sessions", "admin")}


@pytest.mark.django_db
def test_every_body_the_schema_refuses_is_refused_before_anything_runs(world):
    """Issue 17: a body that violates its operation's schema (a wrong type, a lax integer, a list) is a 422
    (400 when it is not an object), for every operation with a body, and nothing changes in the database."""
    from django.test import Client

    from zhunong.accounts.services import issue_token
    from zhunong.testing import PASSWORD

    doc = _document()
    _, raw = issue_token(username=world.operator.username, password=PASSWORD)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    before = _row_counts()
    checked = 0
    for method, path, op in _operations():
        schema = _body_schema(doc, op)
        if schema is None or op["operationId"] == "zhunong_payments_api_sandbox_webhook":
            continue  # the webhook checks the gateway's signature over the raw body first: 400 invalid_signature
        url = re.sub(r"\{[^}]+\}", "1", path)
        for body, status in _violations(schema):
            answer = client.generic(method.upper(), url, data=body, content_type="application/json")
            assert answer.status_code == status, (method, path, body, answer.content)
            assert answer.json()["code"] == ("bad_request" if status == 400 else "invalid"), (method, path, body)
            checked += 1
    assert checked > 150
    after = _row_counts()
    assert {k: (before[k], after[k]) for k in before if before[k] != after[k]} == {}
