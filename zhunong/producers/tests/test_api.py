"""API for regions, producers, plots and batches: happy paths, scoping, and bad input that changes nothing."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.producers import services
from zhunong.producers.models import HarvestBatch, Plot, Producer
from zhunong.producers.trace_codes import is_valid_trace_code
from zhunong.testing import api_auth, build_world, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(client, url, body, auth):  # noqa: ANN001, ANN201
    return client.post(f"{API}{url}", data=json.dumps(body), content_type="application/json", **auth)


def patch(client, url, body, auth):  # noqa: ANN001, ANN201
    return client.patch(f"{API}{url}", data=json.dumps(body), content_type="application/json", **auth)


@pytest.fixture
def op(world):  # noqa: ANN001, ANN201
    return api_auth(world.operator)


# --- regions --------------------------------------------------------------------------------------

def test_regions_top_level_children_and_level_filter(client, world):
    top = client.get(f"{API}/regions").json()
    assert world.regions["province"].code in [r["code"] for r in top["items"]]
    children = client.get(f"{API}/regions", {"parent": world.county.code}).json()
    assert [r["code"] for r in children["items"]] == [world.regions["township"].code]
    assert children["items"][0]["parent_code"] == world.county.code
    villages = client.get(f"{API}/regions", {"parent": world.regions["province"].code, "level": "village"}).json()
    assert [r["code"] for r in villages["items"]] == [world.village.code]


def test_region_tree_is_nested(client, world):
    tree = client.get(f"{API}/regions/tree", {"root": world.county.code}).json()
    assert len(tree) == 1 and tree[0]["code"] == world.county.code
    assert tree[0]["children"][0]["children"][0]["code"] == world.village.code
    assert tree[0]["children"][0]["children"][0]["children"] == []


def test_unknown_region_is_404_with_code(client, world):
    for url in ("/regions", "/regions/tree"):
        resp = client.get(f"{API}{url}", {"parent" if url == "/regions" else "root": "NOPE"})
        assert resp.status_code == 404
        assert resp.json()["code"] == "unknown_region"


# --- producers ------------------------------------------------------------------------------------

def test_operator_creates_producer_with_masked_payee_and_phone(client, world, op):
    resp = post(client, "/producers", {
        "name": "才让家庭牧场", "village_id": world.village.pk, "kind": "household", "registered_poor": True,
        "contact_phone": "13912345678", "payee_name": "才让", "payee_account": "6222020200009876",
    }, op)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["village"]["code"] == world.village.code
    assert body["contact_phone_masked"] == "139****5678"
    assert body["payee_account_masked"] == "************9876"
    assert "13912345678" not in resp.content.decode()
    assert "6222020200009876" not in resp.content.decode()
    assert Producer.objects.get(pk=body["id"]).payee_account == "6222020200009876"


def test_producer_list_and_detail_are_scoped_to_the_operators_county(client, world, op):
    other = build_world()
    listed = client.get(f"{API}/producers", **op).json()
    assert [p["id"] for p in listed["items"]] == [world.producer.pk]
    assert listed["count"] == 1
    resp = client.get(f"{API}/producers/{other.producer.pk}", **op)
    assert resp.status_code == 404
    assert resp.json()["code"] == "producer_not_found"
    assert client.get(f"{API}/producers/{world.producer.pk}", **op).json()["name"] == world.producer.name


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"village_id": 999_999}, 404, "unknown_region"),
    ({"village_id": "abc"}, 422, "invalid"),
    ({"name": "坏\x00名字"}, 422, "invalid"),
    ({"name": "坏\u202e名字"}, 422, "invalid"),
    ({"name": "长" * 101}, 422, "invalid"),
    ({"name": "   "}, 422, "invalid"),
    ({"contact_phone": "call-me"}, 422, "invalid"),
    ({"kind": "alien"}, 422, "invalid"),
    ({"description": "x" * 2001}, 422, "invalid"),
])
def test_bad_producer_input_is_refused_and_creates_nothing(client, world, op, body, status, code):
    before = Producer.objects.count()
    resp = post(client, "/producers", {"name": "新农户", "village_id": world.village.pk, **body}, op)
    assert resp.status_code == status, resp.content
    assert resp.json()["code"] == code
    assert resp.json()["message"]
    assert Producer.objects.count() == before


def test_producer_must_sit_in_a_village_of_the_operators_county(client, world, op):
    other = build_world()
    before = Producer.objects.count()
    resp = post(client, "/producers", {"name": "越界", "village_id": other.village.pk}, op)
    assert (resp.status_code, resp.json()["code"]) == (403, "outside_region")
    resp = post(client, "/producers", {"name": "不是村", "village_id": world.regions["township"].pk}, op)
    assert (resp.status_code, resp.json()["code"]) == (422, "region_level_mismatch")
    assert Producer.objects.count() == before


def test_patch_producer_changes_only_given_fields(client, world, op):
    resp = patch(client, f"/producers/{world.producer.pk}", {"name": "鲁家蓝莓合作园", "registered_poor": False}, op)
    assert resp.status_code == 200, resp.content
    world.producer.refresh_from_db()
    assert world.producer.name == "鲁家蓝莓合作园"
    assert world.producer.registered_poor is False
    assert world.producer.payee_account == "6222020200001234"


def test_patch_producer_bad_input_and_foreign_village_change_nothing(client, world, op):
    other = build_world()
    for body, status, code in [({"village_id": other.village.pk}, 403, "outside_region"),
                               ({"name": "a\x07b"}, 422, "invalid"),
                               ({"payee_account": "62-22"}, 422, "invalid")]:
        resp = patch(client, f"/producers/{world.producer.pk}", body, op)
        assert (resp.status_code, resp.json()["code"]) == (status, code), body
    world.producer.refresh_from_db()
    assert world.producer.village == world.village
    assert world.producer.name == "鲁家蓝莓园"


def test_regulator_reads_producers_but_cannot_change_them(client, world):
    auth = api_auth(world.regulator)
    assert client.get(f"{API}/producers", **auth).json()["count"] == 1
    resp = patch(client, f"/producers/{world.producer.pk}", {"name": "改名"}, auth)
    assert (resp.status_code, resp.json()["code"]) == (403, "permission_denied")


# --- plots and batches ----------------------------------------------------------------------------

def test_create_and_list_plots(client, world, op):
    resp = post(client, "/plots", {"producer_id": world.producer.pk, "name": "西坡", "area_mu": "3.5",
                                   "crop": "蓝莓", "variety": "蓝丰"}, op)
    assert resp.status_code == 201, resp.content
    assert resp.json()["area_mu"] == "3.50"
    listed = client.get(f"{API}/plots", {"producer_id": world.producer.pk}, **op).json()
    assert {p["name"] for p in listed["items"]} == {"东坡", "西坡"}


@pytest.mark.parametrize(("area", "status"), [("-1", 422), ("0", 422), ("abc", 422), ("1.234", 422),
                                              (2_000_000, 422), ("NaN", 422), ("Infinity", 422)])
def test_bad_plot_area_is_refused(client, world, op, area, status):
    before = Plot.objects.count()
    resp = post(client, "/plots", {"producer_id": world.producer.pk, "name": "坏地块", "area_mu": area,
                                   "crop": "蓝莓"}, op)
    assert resp.status_code == status
    assert resp.json()["code"] == "invalid"
    assert "area_mu" in resp.json()["message"]
    assert Plot.objects.count() == before


def test_plot_for_a_producer_of_another_county_is_not_found(client, world, op):
    other = build_world()
    resp = post(client, "/plots", {"producer_id": other.producer.pk, "name": "越界", "area_mu": "1", "crop": "茶"}, op)
    assert (resp.status_code, resp.json()["code"]) == (404, "producer_not_found")


def test_create_batch_gets_trace_code_and_lists_with_inspection_result(client, world, op):
    resp = post(client, "/batches", {"plot_id": world.plot.pk, "harvested_on": str(timezone.localdate()),
                                     "quantity": "120.5", "unit": "kg", "grade": "明前茶", "shelf_life_days": 30}, op)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert is_valid_trace_code(body["trace_code"])
    assert body["inspection_result"] is None
    world.inspect()
    listed = client.get(f"{API}/batches", {"plot_id": world.plot.pk}, **op).json()
    results = {b["trace_code"]: b["inspection_result"] for b in listed["items"]}
    assert results == {body["trace_code"]: None, world.batch.trace_code: "pass"}


@pytest.mark.parametrize("change", [
    {"quantity": "-5"}, {"quantity": "abc"}, {"quantity": 0}, {"unit": "ton"},
    {"harvested_on": str(timezone.localdate() + dt.timedelta(days=5))}, {"harvested_on": "1999-12-31"},
    {"harvested_on": "not-a-date"}, {"shelf_life_days": 0}, {"grade": "特\x1b级"}, {"lot_number": "L" * 41},
])
def test_bad_batch_input_is_refused(client, world, op, change):
    before = HarvestBatch.objects.count()
    body = {"plot_id": world.plot.pk, "harvested_on": str(timezone.localdate()), "quantity": "10", **change}
    resp = post(client, "/batches", body, op)
    assert resp.status_code == 422, resp.content
    assert resp.json()["code"] == "invalid"
    assert HarvestBatch.objects.count() == before


def test_producer_manager_records_batches_for_own_producer_only(client, world):
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    other = services.create_producer(actor=world.operator, name="别家", village=world.village)
    other_plot = services.create_plot(actor=world.operator, producer=other, name="北坡", area_mu="2", crop="蓝莓")
    auth = api_auth(manager)
    assert [p["id"] for p in client.get(f"{API}/producers", **auth).json()["items"]] == [world.producer.pk]
    ok = post(client, "/batches", {"plot_id": world.plot.pk, "harvested_on": str(timezone.localdate()),
                                   "quantity": "10"}, auth)
    assert ok.status_code == 201
    refused = post(client, "/batches", {"plot_id": other_plot.pk, "harvested_on": str(timezone.localdate()),
                                        "quantity": "10"}, auth)
    assert (refused.status_code, refused.json()["code"]) == (404, "plot_not_found")
    refused = post(client, "/producers", {"name": "自己注册", "village_id": world.village.pk}, auth)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


def test_pagination_bounds(client, world, op):
    for i in range(3):
        services.create_plot(actor=world.operator, producer=world.producer, name=f"地块{i}", area_mu="1", crop="蓝莓")
    first = client.get(f"{API}/plots", {"limit": 2, "offset": 0}, **op).json()
    second = client.get(f"{API}/plots", {"limit": 2, "offset": 2}, **op).json()
    assert first["count"] == second["count"] == 4
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert {p["id"] for p in first["items"]}.isdisjoint({p["id"] for p in second["items"]})
    for params in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "x"}):
        resp = client.get(f"{API}/plots", params, **op)
        assert (resp.status_code, resp.json()["code"]) == (422, "invalid"), params


def test_ids_beyond_64_bits_are_a_clean_422(client, world, op):
    resp = client.get(f"{API}/producers/{2**70}", **op)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid")
    resp = post(client, "/plots", {"producer_id": 2**70, "name": "x", "area_mu": "1", "crop": "x"}, op)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid")
