"""Auth endpoints, the error format every endpoint shares, and the OpenAPI document's error declarations."""

import json

import pytest
from django.test import Client

from zhunong.accounts.models import ApiToken, User
from zhunong.testing import PASSWORD, api_auth, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(client, url, body, **extra):  # noqa: ANN001, ANN003, ANN201
    return client.post(f"{API}{url}", data=json.dumps(body), content_type="application/json", **extra)


def test_token_then_me(client):
    user = make_user()
    resp = post(client, "/auth/token", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 200
    token = resp.json()["token"]
    assert resp.json()["token_type"] == "Bearer"
    assert ApiToken.objects.get(user=user).key_hash == ApiToken.hash(token)  # stored hashed only
    me = client.get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.json() == {"id": user.pk, "username": user.username, "display_name": "", "roles": ["buyer"],
                         "host_id": None}


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"username": "nobody", "password": "wrong-password"}, 401, "bad_credentials"),
    ({"username": "", "password": "x"}, 422, "invalid"),
    ({"username": "a\x00b", "password": "x"}, 422, "invalid"),
    ({"username": "ab", "password": "x\x00"}, 422, "invalid"),
    ({"username": "ab"}, 422, "invalid"),
])
def test_token_errors(client, body, status, code):
    resp = post(client, "/auth/token", body)
    assert resp.status_code == status
    assert resp.json()["code"] == code
    assert resp.json()["message"]


def test_register_buyer_and_refusals(client):
    resp = post(client, "/auth/register", {"username": "mai_jia", "password": "蓝莓真好吃-2024", "display_name": "买家"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["roles"] == ["buyer"]
    assert not User.objects.get(username="mai_jia").is_staff
    for body, status, code in [
        ({"username": "MAI_JIA", "password": "another-long-pass-1"}, 409, "username_taken"),
        ({"username": "weakling", "password": "12345678"}, 422, "weak_password"),
        ({"username": "bad name", "password": "another-long-pass-1"}, 422, "invalid"),
        ({"username": "ctl\x1bname", "password": "another-long-pass-1"}, 422, "invalid"),
        ({"username": "shown", "password": "another-long-pass-1", "display_name": "名\u202e字"}, 422, "invalid"),
    ]:
        before = User.objects.count()
        resp = post(client, "/auth/register", body)
        assert (resp.status_code, resp.json()["code"]) == (status, code), body
        assert User.objects.count() == before


def test_missing_or_wrong_token_is_401_json(client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": "Bearer " + "x" * 500}):
        resp = client.get(f"{API}/auth/me", **headers)
        assert resp.status_code == 401
        assert resp.json()["code"] == "not_authenticated"


def test_buyer_and_host_are_kept_out_of_the_back_office(client):
    from zhunong.accounts import roles

    for role in (roles.BUYER, roles.HOST):
        resp = client.get(f"{API}/producers", **api_auth(make_user(role)))
        assert (resp.status_code, resp.json()["code"]) == (403, "permission_denied")


def test_an_unexpected_error_is_still_json_without_a_traceback(client, monkeypatch):
    from zhunong.catalog import selectors

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "get_listed_product", boom)
    resp = client.get(f"{API}/products/1")
    assert resp.status_code == 500
    assert resp.json() == {"code": "server_error", "message": "Internal server error."}
    assert "secret internals" not in resp.content.decode()


def test_validation_errors_name_the_field(client):
    resp = post(client, "/auth/register", {"username": "ab", "password": "long-enough-pass"})
    body = resp.json()
    assert body["code"] == "invalid"
    assert body["message"].startswith("username:")
    assert body["details"]["errors"][0]["loc"][-1] == "username"


def test_openapi_declares_every_error_as_error_out():
    """Every operation's non-2xx responses use the error body schema, and every operation that takes
    input declares 422, so schemathesis can check each error body against the document."""
    from zhunong.api import api

    schema = api.get_openapi_schema()
    mine = ("/api/v1/auth", "/api/v1/regions", "/api/v1/producers", "/api/v1/plots", "/api/v1/batches",
            "/api/v1/products", "/api/v1/backoffice")
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith(mine):
            continue
        for method, op in operations.items():
            responses = {str(code): response for code, response in op["responses"].items()}
            assert any(code.startswith("2") for code in responses), (method, path)
            for code, response in responses.items():
                if not code.startswith("2"):
                    # core/apidoc.py writes each error body inline: {code (an enum of its codes), message, details}.
                    body = response["content"]["application/json"]["schema"]
                    assert body["required"] == ["code", "message"], (method, path, code)
                    assert body["properties"]["code"]["enum"], (method, path, code)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in responses, (method, path)
            if op.get("requestBody"):
                assert "400" in responses, (method, path)
            if op.get("security"):
                assert "401" in responses, (method, path)
            checked += 1
    assert checked >= 20


def _all_domain_errors() -> list[type]:
    import importlib

    from django.apps import apps

    import zhunong.api  # noqa: F401  (imports every router and, through them, most error modules)
    from zhunong.core.errors import DomainError

    for config in apps.get_app_configs():
        if config.name.startswith("zhunong."):
            for module in ("errors", "selectors"):
                try:
                    importlib.import_module(f"{config.name}.{module}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.{module}":
                        raise

    def walk(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *walk(direct))]

    # Error classes that tests define for themselves (e.g. core/tests/test_apidoc.py) are not the API's.
    return [cls for cls in walk(DomainError) if ".tests." not in cls.__module__]


def test_docs_list_every_error_code():
    """docs/api.md collects the codes of every errors.py: a new code needs a line there."""
    from django.conf import settings

    doc = (settings.BASE_DIR / "docs" / "api.md").read_text()
    missing = sorted({cls.code for cls in _all_domain_errors() if f"`{cls.code}`" not in doc})
    assert not missing, f"docs/api.md does not list these error codes: {missing}"


def test_schema_names_are_unique_across_apps():
    """OpenAPI components are keyed by class name: two different schemas with one name silently
    replace each other in the document, and schemathesis then checks responses against the wrong one."""
    from collections import defaultdict

    from ninja import Schema

    import zhunong.api  # noqa: F401  (imports every router)

    def walk(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *walk(direct))]

    def shape_of(node):  # noqa: ANN001, ANN202
        # Descriptions and titles do not change what a response may contain.
        if isinstance(node, dict):
            return {k: shape_of(v) for k, v in node.items() if k not in ("description", "title", "examples")}
        if isinstance(node, list):
            return [shape_of(v) for v in node]
        return node

    by_name: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cls in walk(Schema):
        if cls.__module__.startswith("zhunong."):
            shape = json.dumps(shape_of(cls.model_json_schema()), sort_keys=True, default=str)
            by_name[cls.__name__][shape].append(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(m for ms in shapes.values() for m in ms)
               for name, shapes in by_name.items() if len(shapes) > 1}
    assert not clashes, f"different schemas share a name: {clashes}"


def test_django_permission_denied_is_a_json_403(client, monkeypatch):
    from django.core.exceptions import PermissionDenied

    from zhunong.catalog import selectors

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise PermissionDenied

    monkeypatch.setattr(selectors, "get_listed_product", refuse)
    resp = client.get(f"{API}/products/1")
    assert (resp.status_code, resp.json()["code"]) == (403, "permission_denied")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer no-such-token", "Bearer ", "Basic abc"])
def test_a_bad_authorization_header_is_401_even_with_a_session_cookie(world, header):
    """docs/api.md: an unknown or revoked token answers 401 not_authenticated; a request carrying an
    Authorization header is never judged as a browser session (whose refusal would be CSRF's 403)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    response = client.post("/api/v1/orders", data={"lines": []}, content_type="application/json",
                           HTTP_AUTHORIZATION=header, HTTP_IDEMPOTENCY_KEY="k1")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
