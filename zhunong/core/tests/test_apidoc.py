"""core/apidoc.py: an operation's error answers come from the error classes, exactly."""

import pytest
from ninja import NinjaAPI, Router, Schema

from zhunong.core.apidoc import complete_openapi, declared_codes, error_codes, responses
from zhunong.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied


class _Gone(NotFound):
    code = "thing_not_found"


class _Out(Schema):
    id: int


class _In(Schema):
    name: str


def test_error_codes_group_by_status_from_the_classes():
    assert error_codes(_Gone, NotFound, InvalidTransition, Conflict, (422, Conflict), (409, "odd_code")) == {
        404: ("not_found", "thing_not_found"),
        409: ("conflict", "invalid_transition", "odd_code"),
        422: ("conflict",),
    }


def test_bad_specs_are_refused():
    with pytest.raises(TypeError):
        error_codes("not_found")
    with pytest.raises(ValueError, match="not an error status"):
        error_codes((200, "ok"))
    with pytest.raises(ValueError, match="as a success and as an error"):
        responses({404: _Out}, _Gone)


def test_same_codes_share_one_model_and_the_code_is_an_enum():
    a = responses({200: _Out}, _Gone, PermissionDenied)
    b = responses({201: _Out}, PermissionDenied, _Gone)
    assert a[404] is b[404] and a[403] is b[403]
    assert a[404].model_json_schema()["properties"]["code"]["const"] == "thing_not_found"
    assert a[403](code="permission_denied", message="x").code == "permission_denied"
    with pytest.raises(ValueError):
        a[404](code="not_found", message="x")


def _document() -> dict:
    api = NinjaAPI(urls_namespace="apidoc-test")
    router = Router()

    @router.post("/things", response=responses({201: _Out}, PermissionDenied, Conflict), auth=lambda r: True)
    def create(request, payload: _In):  # noqa: ANN001, ANN202
        return 201, {"id": 1}

    @router.get("/things/{thing_id}", response=responses({200: _Out}, _Gone))
    def read(request, thing_id: int):  # noqa: ANN001, ANN202
        return {"id": thing_id}

    @router.get("/ping", response={200: _Out})
    def ping(request):  # noqa: ANN001, ANN202
        return {"id": 0}

    api.add_router("/", router)
    return complete_openapi(api.get_openapi_schema(path_prefix=""))


def test_complete_openapi_adds_generic_answers_by_the_operation_s_shape():
    paths = _document()["paths"]
    create = paths["/things"]["post"]
    assert declared_codes(create) == {400: {"bad_request"}, 403: {"permission_denied"}, 409: {"conflict"},
                                      422: {"invalid"}}  # the lambda auth has no security scheme: no 401
    read = paths["/things/{thing_id}"]["get"]
    assert declared_codes(read) == {404: {"thing_not_found"}, 422: {"invalid"}}
    assert declared_codes(paths["/ping"]["get"]) == {}


def test_generated_error_models_do_not_stay_in_components():
    components = _document()["components"]["schemas"]
    assert not [name for name in components if name.startswith("ApidocError")]
    assert "_Out" in components
