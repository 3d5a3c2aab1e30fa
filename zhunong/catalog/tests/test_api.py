"""Product API: the public catalogue, the back office's product endpoints and issue 2's bad input."""

import json

import pytest

from zhunong.catalog.models import ListingStatus, PriceChange, Product
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import api_auth, build_world

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(client, url, body, auth):  # noqa: ANN001, ANN201
    return client.post(f"{API}{url}", data=json.dumps(body), content_type="application/json", **auth)


def patch(client, url, body, auth):  # noqa: ANN001, ANN201
    return client.patch(f"{API}{url}", data=json.dumps(body), content_type="application/json", **auth)


@pytest.fixture
def op(world):  # noqa: ANN001, ANN201
    return api_auth(world.operator)


def product_body(world, **overrides) -> dict:  # noqa: ANN001
    body = {"name": "洋河蓝莓", "price": "39.90", "cost_floor": "20.00", "origin_id": world.county.pk,
            "producer_ids": [world.producer.pk], "batch_ids": [world.batch.pk], "unit": "box", "stock": 50}
    body.update(overrides)
    return body


def snapshot(product: Product) -> tuple:
    product.refresh_from_db()
    return (product.status, product.price, product.cost_floor, product.below_cost_reason, product.name,
            list(product.batches.values_list("pk", flat=True)), product.listing_history.count(),
            product.price_history.count())


# --- public ---------------------------------------------------------------------------------------

def test_public_list_shows_listed_products_only_and_searches_traditional(client, world):
    listed = world.listed_product(name="洋河蓝莓")
    world.draft_product(name="蓝莓果酱", batches=[world.new_batch()])
    body = client.get(f"{API}/products").json()
    assert [p["id"] for p in body["items"]] == [listed.pk]
    assert body["count"] == 1
    found = client.get(f"{API}/products", {"q": "藍莓"}).json()
    assert [p["id"] for p in found["items"]] == [listed.pk]
    assert client.get(f"{API}/products", {"q": "苹果"}).json()["count"] == 0


def test_public_list_filters_by_region_subtree(client, world):
    listed = world.listed_product()
    other = build_world()
    other_product = other.listed_product(name="牦牛肉干")
    ours = client.get(f"{API}/products", {"region": world.county.code}).json()
    assert [p["id"] for p in ours["items"]] == [listed.pk]
    by_village = client.get(f"{API}/products", {"region": other.village.code}).json()
    assert [p["id"] for p in by_village["items"]] == [other_product.pk]
    resp = client.get(f"{API}/products", {"region": "NOWHERE"})
    assert (resp.status_code, resp.json()["code"]) == (404, "unknown_region")


def test_public_product_detail_has_origin_producers_and_trace_codes_but_no_payee(client, world):
    product = world.listed_product()
    resp = client.get(f"{API}/products/{product.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["origin"]["full_name"] == "山东省青岛市胶州市"
    assert body["producers"] == [{"id": world.producer.pk, "name": "鲁家蓝莓园", "kind": "household",
                                  "village": "山里村"}]
    assert body["trace_codes"] == [world.batch.trace_code]
    text = resp.content.decode()
    for secret in ("6222020200001234", "payee", "phone", "cost_floor", "registered_poor"):
        assert secret not in text


@pytest.mark.parametrize("state", ["draft", "awaiting", "delisted"])
def test_public_detail_of_unlisted_product_is_404(client, world, op, state):
    if state == "draft":
        product = world.draft_product()
    elif state == "awaiting":
        product = world.draft_product()
        post(client, f"/products/{product.pk}/submit", {}, op)
    else:
        product = world.listed_product()
        post(client, f"/products/{product.pk}/delist", {"reason": "质量复核"}, op)
    resp = client.get(f"{API}/products/{product.pk}")
    assert (resp.status_code, resp.json()["code"]) == (404, "product_not_found")
    assert client.get(f"{API}/products/987654").json()["code"] == "product_not_found"


def test_public_search_rejects_control_characters_and_overlong_queries(client, world):
    for q in ("蓝\x00莓", "蓝" * 101):
        resp = client.get(f"{API}/products", {"q": q})
        assert (resp.status_code, resp.json()["code"]) == (422, "invalid")


# --- back office: create, price, listing ----------------------------------------------------------

def test_operator_creates_a_draft_product(client, world, op):
    resp = post(client, "/products", product_body(world), op)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "draft"
    assert body["price"] == "39.90" and body["cost_floor"] == "20.00"
    assert body["batches"] == [{"id": world.batch.pk, "trace_code": world.batch.trace_code,
                                "inspection_result": None}]
    assert body["listing_history"] == []
    staff = client.get(f"{API}/backoffice/products", {"status": "draft"}, **op).json()
    assert [p["id"] for p in staff["items"]] == [body["id"]]
    assert client.get(f"{API}/products/{body['id']}").status_code == 404


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"price": "-1"}, 422, "invalid"),
    ({"price": "0"}, 422, "invalid"),
    ({"price": "abc"}, 422, "invalid"),
    ({"price": "12.345"}, 422, "invalid"),
    ({"price": "1e9"}, 422, "invalid"),
    ({"cost_floor": "-0.01"}, 422, "invalid"),
    ({"stock": -1}, 422, "invalid"),
    ({"stock": "many"}, 422, "invalid"),
    ({"price": "10.00"}, 422, "below_cost_without_reason"),
    ({"origin_id": 999_999}, 404, "unknown_region"),
    ({"name": "蓝莓\x00"}, 422, "invalid"),
    ({"name": "x" * 101}, 422, "invalid"),
    ({"description": "y" * 5001}, 422, "invalid"),
    ({"unit": "ton"}, 422, "invalid"),
    ({"gtin": "12345"}, 422, "invalid"),
    ({"producer_ids": []}, 422, "invalid"),
    ({"producer_ids": [999_999]}, 404, "producer_not_found"),
])
def test_bad_product_input_is_refused_and_creates_nothing(client, world, op, change, status, code):
    before = (Product.objects.count(), IntegrityFlag.objects.count())
    resp = post(client, "/products", product_body(world, **change), op)
    assert resp.status_code == status, resp.content
    assert resp.json()["code"] == code
    assert (Product.objects.count(), IntegrityFlag.objects.count()) == before


def test_below_cost_with_reason_is_created_and_flagged(client, world, op):
    resp = post(client, "/products", product_body(world, price="10.00", below_cost_reason="临期促销"), op)
    assert resp.status_code == 201, resp.content
    assert resp.json()["below_cost_reason"] == "临期促销"
    flag = IntegrityFlag.objects.get(kind=IntegrityFlag.Kind.BELOW_COST)
    assert flag.subject_id == str(resp.json()["id"])


def test_duplicate_gtin_is_a_conflict(client, world, op):
    assert post(client, "/products", product_body(world, gtin="6901234567892"), op).status_code == 201
    resp = post(client, "/products", product_body(world, gtin="6901234567892", name="另一个"), op)
    assert (resp.status_code, resp.json()["code"]) == (409, "gtin_taken")


def test_patch_price_goes_through_change_price(client, world, op):
    product = world.listed_product()
    resp = patch(client, f"/products/{product.pk}", {"price": "45.00"}, op)
    assert resp.status_code == 200, resp.content
    assert resp.json()["price"] == "45.00"
    assert resp.json()["status"] == "listed"
    assert list(PriceChange.objects.filter(product=product).values_list("price", flat=True)) == [
        product.price, product.price.__class__("45.00")]


@pytest.mark.parametrize(("change", "code"), [
    ({"price": "5.00"}, "below_cost_without_reason"),
    ({"cost_floor": "50.00"}, "below_cost_without_reason"),
    ({"price": "-3"}, "invalid"),
    ({"price": "三十"}, "invalid"),
    ({"name": "蓝\u2028莓"}, "invalid"),
    ({"batch_ids": []}, "batch_still_needed"),
])
def test_bad_patch_changes_nothing(client, world, op, change, code):
    product = world.listed_product()
    before = snapshot(product)
    resp = patch(client, f"/products/{product.pk}", change, op)
    assert resp.json()["code"] == code, resp.content
    # docs/api.md: below_cost_without_reason and invalid are 422, batch_still_needed is 409.
    assert resp.status_code == (409 if code == "batch_still_needed" else 422)
    assert snapshot(product) == before
    assert not IntegrityFlag.objects.exists()


def test_patch_below_cost_with_reason_records_reason_and_flags(client, world, op):
    product = world.listed_product()
    resp = patch(client, f"/products/{product.pk}", {"price": "15.00", "below_cost_reason": "滞销清库"}, op)
    assert resp.status_code == 200
    product.refresh_from_db()
    assert (product.price, product.below_cost_reason) == (product.price.__class__("15.00"), "滞销清库")
    assert IntegrityFlag.objects.filter(kind="below_cost", subject_id=str(product.pk)).count() == 1


def test_listing_needs_a_passed_inspection(client, world, op):
    product_id = post(client, "/products", product_body(world), op).json()["id"]
    resp = post(client, f"/products/{product_id}/list", {}, op)
    assert (resp.status_code, resp.json()["code"]) == (409, "invalid_transition")
    submitted = post(client, f"/products/{product_id}/submit", {}, op)
    assert submitted.json()["status"] == "awaiting_inspection"
    resp = post(client, f"/products/{product_id}/list", {}, op)
    assert (resp.status_code, resp.json()["code"]) == (409, "not_inspected")
    assert resp.json()["details"]["batches"] == [world.batch.trace_code]
    assert Product.objects.get(pk=product_id).status == ListingStatus.AWAITING_INSPECTION
    world.inspect()
    detail = client.get(f"{API}/backoffice/products/{product_id}", **op).json()
    assert detail["status"] == "listed"
    assert [(t["from_status"], t["to_status"]) for t in detail["listing_history"]] == [
        ("draft", "awaiting_inspection"), ("awaiting_inspection", "listed")]
    assert client.get(f"{API}/products/{product_id}").status_code == 200


def test_submit_without_batches_is_refused(client, world, op):
    product_id = post(client, "/products", product_body(world, batch_ids=[]), op).json()["id"]
    resp = post(client, f"/products/{product_id}/submit", {}, op)
    assert (resp.status_code, resp.json()["code"]) == (409, "no_batches")
    assert Product.objects.get(pk=product_id).status == ListingStatus.DRAFT


def test_adding_a_batch_sends_a_listed_product_back_to_inspection(client, world, op):
    product = world.listed_product()
    batch = world.new_batch()
    resp = post(client, f"/products/{product.pk}/batches", {"batch_id": batch.pk}, op)
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "awaiting_inspection"
    assert client.get(f"{API}/products/{product.pk}").status_code == 404
    world.inspect(batch)
    assert client.get(f"{API}/products/{product.pk}").status_code == 200


def test_patch_new_batch_also_sends_listed_product_back(client, world, op):
    product = world.listed_product()
    batch = world.new_batch()
    resp = patch(client, f"/products/{product.pk}", {"batch_ids": [world.batch.pk, batch.pk]}, op)
    assert resp.json()["status"] == "awaiting_inspection"


def test_delist_needs_a_reason(client, world, op):
    product = world.listed_product()
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "坏\x00"}):
        resp = post(client, f"/products/{product.pk}/delist", body, op)
        assert (resp.status_code, resp.json()["code"]) == (422, "invalid"), body
    assert Product.objects.get(pk=product.pk).status == ListingStatus.LISTED
    resp = post(client, f"/products/{product.pk}/delist", {"reason": "农残复检"}, op)
    assert resp.json()["status"] == "delisted"
    assert resp.json()["listing_history"][-1]["reason"] == "农残复检"


def test_regulator_may_delist_but_not_price(client, world):
    product = world.listed_product()
    auth = api_auth(world.regulator)
    resp = patch(client, f"/products/{product.pk}", {"price": "50.00"}, auth)
    assert (resp.status_code, resp.json()["code"]) == (403, "permission_denied")
    resp = post(client, f"/products/{product.pk}/delist", {"reason": "抽检不合格"}, auth)
    assert resp.status_code == 200
    assert resp.json()["status"] == "delisted"


def test_operator_of_another_county_sees_and_touches_nothing(client, world):
    product = world.listed_product()
    other = build_world()
    auth = api_auth(other.operator)
    assert client.get(f"{API}/backoffice/products", **auth).json()["count"] == 0
    before = snapshot(product)
    for url, body in [(f"/products/{product.pk}/delist", {"reason": "x"}), (f"/products/{product.pk}/submit", {}),
                      (f"/products/{product.pk}/batches", {"batch_id": other.batch.pk})]:
        resp = post(client, url, body, auth)
        assert (resp.status_code, resp.json()["code"]) == (404, "product_not_found"), url
    resp = patch(client, f"/products/{product.pk}", {"price": "1.00"}, auth)
    assert resp.status_code == 404
    resp = post(client, "/products", product_body(world), auth)  # our county as origin
    assert (resp.status_code, resp.json()["code"]) == (404, "producer_not_found")
    resp = post(client, "/products", product_body(world, producer_ids=[other.producer.pk],
                                                  batch_ids=[other.batch.pk]), auth)
    assert (resp.status_code, resp.json()["code"]) == (403, "outside_region")
    assert snapshot(product) == before


def test_malformed_json_and_lone_surrogates_are_400(client, world, op):
    resp = client.post(f"{API}/products", data="{not json", content_type="application/json", **op)
    assert (resp.status_code, resp.json()["code"]) == (400, "bad_request")
    raw = '{"name": "\\ud800", "price": "1", "cost_floor": "0", "origin_id": 1, "producer_ids": [1]}'
    resp = client.post(f"{API}/products", data=raw, content_type="application/json", **op)
    assert (resp.status_code, resp.json()["code"]) == (400, "bad_request")
    assert Product.objects.count() == 0
