"""core/schemas.py: request bodies take integers, numbers and booleans only as JSON writes them."""

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from zhunong.core.schemas import RequestSchema

Id = Annotated[int, Field(ge=1, le=100)]


class _Nested(RequestSchema):
    count: int


class _Body(RequestSchema):
    quantity: int = Field(default=1, ge=1, le=99)
    ref: Id | None = None
    ids: list[Id] = []
    ratio: float = 1.0
    flag: bool = False
    lines: list[_Nested] = []
    name: str = ""


@pytest.mark.parametrize("data", [
    {"quantity": "5"}, {"quantity": 5.5}, {"quantity": True}, {"quantity": None},
    {"ref": "3"}, {"ref": 2.5}, {"ids": ["3"]}, {"ids": [True]}, {"ids": [1.5]},
    {"ratio": "1.5"}, {"ratio": True},
    {"flag": 1}, {"flag": "true"},
    {"lines": [{"count": "2"}]},
])
def test_lax_forms_are_refused(data):
    with pytest.raises(ValidationError):
        _Body.model_validate(data)


def test_json_forms_are_taken_and_bounds_still_hold():
    body = _Body.model_validate({"quantity": 5, "ref": 3, "ids": [1, 2], "ratio": 2, "flag": True,
                                 "lines": [{"count": 2}], "name": "5"})
    assert (body.quantity, body.ref, body.ids, body.ratio, body.flag, body.lines[0].count) == (5, 3, [1, 2], 2.0,
                                                                                               True, 2)
    # 5.0 is an integer in JSON Schema (no fraction): taken as 5, and its bounds still hold.
    body = _Body.model_validate({"quantity": 5.0, "ref": 3.0, "ids": [1.0], "lines": [{"count": 2.0}]})
    assert (body.quantity, body.ref, body.ids, body.lines[0].count) == (5, 3, [1], 2)
    assert type(body.quantity) is int
    with pytest.raises(ValidationError):
        _Body.model_validate({"quantity": 100.0})
    for data in ({"quantity": 0}, {"ref": 101}, {"ids": [0]}):
        with pytest.raises(ValidationError):
            _Body.model_validate(data)


def test_the_document_is_unchanged_by_strictness():
    schema = _Body.model_json_schema()
    assert schema["properties"]["quantity"] == {"default": 1, "maximum": 99, "minimum": 1, "title": "Quantity",
                                                "type": "integer"}
    assert schema["properties"]["ids"]["items"] == {"maximum": 100, "minimum": 1, "type": "integer"}


def _body_models():
    from zhunong.api import api

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ != "body":
                        continue
                    for field in model.model_fields.values():
                        yield operation.view_func.__qualname__, field.annotation


def _models_in(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


def test_every_operation_body_is_a_request_schema():
    bodies = list(_body_models())
    assert len(bodies) > 30
    lax = sorted({f"{view}: {model.__qualname__}" for view, annotation in bodies for model in _models_in(annotation)
                  if not issubclass(model, RequestSchema)})
    assert lax == [], "request bodies must derive from zhunong.core.schemas.RequestSchema"


@pytest.mark.django_db
def test_the_api_refuses_a_string_for_an_integer(client):
    from zhunong.accounts.models import User

    user = User.objects.create_user(username="strict-buyer", password="x-strict-Pass-1")
    client.force_login(user)
    answer = client.post("/api/v1/orders", {"lines": [{"product_id": "1", "quantity": 1}]},
                         content_type="application/json")
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid"
