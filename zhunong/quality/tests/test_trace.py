"""The public trace page, its QR, GS1 Digital Link paths, and the trace API (summary and EPCIS 2.0)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import qrcode
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from qrcode.image.svg import SvgPathImage

from zhunong.catalog import services as catalog
from zhunong.producers import services as producers
from zhunong.quality import selectors, services
from zhunong.testing import build_world, unique

pytestmark = pytest.mark.django_db

BASE = "https://zhunong.example"
# CBV 2.0 business steps and dispositions this platform emits.
CBV_STEPS = {"commissioning", "inspecting", "packing", "shipping", "receiving"}
CBV_DISPOSITIONS = {"active", "conformant", "non_conformant", "container_closed", "in_transit", "in_progress"}
OFFSET = re.compile(r"^[+-](0\d|1[0-3]):[0-5]\d$|^[+-]14:00$")


@pytest.fixture(autouse=True)
def _base_and_media(settings, tmp_path):
    settings.PUBLIC_BASE_URL = BASE
    settings.MEDIA_ROOT = tmp_path


def private_world():
    """A household producer with personal data that must never reach a public page."""
    world = build_world()
    producer = world.producer
    producer.name = "鲁春花家蓝莓园"
    producer.contact_name = "鲁春花"
    producer.contact_phone = "13912345678"
    producer.shipping_address = "洋河镇山里村东街17号"
    producer.save()
    plot = world.plot
    plot.name = "鲁春花东坡地"
    plot.location = "东街17号屋后"
    plot.save()
    return world


def secrets(world) -> list[str]:  # noqa: ANN001
    return ["鲁春花", "13912345678", "东街17号", "6222020200001234", world.producer.payee_name]


def with_certificate(world, batch=None, sampled_on=None):  # noqa: ANN001, ANN201
    batch = batch or world.batch
    return services.record_inspection(
        actor=world.regulator, batch=batch, sample_code=unique("S"), lab="胶州市检验检测中心",
        sampled_on=sampled_on or timezone.localdate(), result="pass",
        items=[services.ItemInput(name="农药残留", value="0.01", limit="0.05", unit="mg/kg"),
               services.ItemInput(name="花青素", value="1.2", limit="0.8", limit_kind="min", unit="mg/g")],
        certificate=SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", content_type="application/pdf"))


def test_trace_page_shows_the_batch_and_nothing_personal(client):
    world = private_world()
    inspection = with_certificate(world)
    product = world.listed_product()
    draft = world.draft_product(name="不在售的蓝莓")
    response = client.get(f"/t/{world.batch.trace_code}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["山里村", "洋河镇", "胶州市", "蓝莓", "北陆", "12.5", "亩", world.batch.harvested_on.isoformat(),
                 "特级", "抽检合格", "胶州市检验检测中心", "农药残留", "0.05", "花青素", "≥",
                 f"/certificates/{inspection.pk}/", f'href="/p/{product.pk}/"', product.name, "采收", "抽检",
                 f"/t/{world.batch.trace_code}/qr.svg", "建档立卡"]:
        assert text in html, text
    assert draft.name not in html  # only listed products are offered
    for secret in secrets(world):
        assert secret not in html, secret
    assert "鲁家" not in html and world.plot.name not in html


def test_trace_api_summary_matches_and_is_private(client):
    world = private_world()
    with_certificate(world)
    product = world.listed_product()
    data = client.get(f"/api/v1/trace/{world.batch.trace_code}").json()
    assert data["code"] == world.batch.trace_code
    assert (data["village"], data["township"], data["county"]) == ("山里村", "洋河镇", "胶州市")
    assert (data["crop"], data["variety"], data["plot_area_mu"]) == ("蓝莓", "北陆", "12.5")
    assert data["harvested_on"] == world.batch.harvested_on.isoformat() and data["grade"] == "特级"
    assert data["producer_name"] is None and data["producer_kind"] == "household"
    assert data["inspection"]["result"] == "pass" and data["inspection"]["certificate_url"].startswith(BASE)
    assert [i["name"] for i in data["inspection"]["items"]] == ["农药残留", "花青素"]
    assert data["products"] == [{"id": product.pk, "name": product.name, "url": f"{BASE}/p/{product.pk}/"}]
    assert [e["biz_step"] for e in data["events"]] == ["commissioning", "inspecting"]
    raw = client.get(f"/api/v1/trace/{world.batch.trace_code}").content.decode()
    epcis = client.get(f"/api/v1/trace/{world.batch.trace_code}/epcis").content.decode()
    for secret in secrets(world):
        assert secret not in raw and secret not in epcis


def test_cooperatives_are_named(client):
    world = build_world()
    world.producer.kind = "cooperative"
    world.producer.save()
    data = client.get(f"/api/v1/trace/{world.batch.trace_code}").json()
    assert data["producer_name"] == world.producer.name and data["producer_id"] == world.producer.pk


@pytest.mark.parametrize("path", ["/t/abc/", "/t/0000000000/", "/t/" + "Z" * 300 + "/", "/t/%E4%B8%AD%E6%96%87/",
                                  "/t/AAAAAAAAA%00/", "/t/2345678923/qr.svg", "/t/abc/qr.svg",
                                  "/01/06971234560018/10/AB/", "/01/12345678/10/LOT", "/t/?code=nope"])
def test_unknown_or_malformed_codes_are_a_404_page(client, path):
    build_world()
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert "Traceback" not in body and "溯源码" in body


@pytest.mark.parametrize("code", ["abc", "2345678923", "%E4%B8%AD", "A" * 65])
def test_unknown_or_malformed_codes_in_the_api(client, code):
    for suffix in ("", "/epcis"):
        response = client.get(f"/api/v1/trace/{code}{suffix}")
        # docs/api.md: 404 trace_code_not_found, malformed codes too. A code over 64 characters is refused by
        # the path's length check first (422 invalid), which the docs do not say (reported, not changed here).
        expected = (422, "invalid") if len(code) > 64 else (404, "trace_code_not_found")
        assert (response.status_code, response.json()["code"]) == expected


def test_lower_case_code_redirects_to_the_canonical_page(client):
    world = build_world()
    response = client.get(f"/t/{world.batch.trace_code.lower()}/")
    assert response.status_code == 301 and response["Location"] == f"/t/{world.batch.trace_code}/"
    assert client.get(f"/t/?code={world.batch.trace_code.lower()}")["Location"] == f"/t/{world.batch.trace_code}/"


def _svg_for(data: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, image_factory=SvgPathImage)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image().to_string()


def test_qr_encodes_the_trace_page_or_the_digital_link(client):
    world = build_world()
    response = client.get(f"/t/{world.batch.trace_code}/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") or response.content.startswith(b"<?xml")
    assert response.content == _svg_for(f"{BASE}/t/{world.batch.trace_code}/")
    # With a GTIN on a product sold from the batch, the QR carries the GS1 Digital Link path instead.
    world.listed_product(gtin="6971234560018")
    response = client.get(f"/t/{world.batch.trace_code}/qr.svg")
    assert response.content == _svg_for(f"{BASE}/01/06971234560018/10/{world.batch.trace_code}")
    assert response.content != _svg_for(f"{BASE}/t/{world.batch.trace_code}/")


def test_digital_link_resolves_to_the_trace_page(client):
    world = build_world()
    lot_batch = world.new_batch(lot_number="LM2025-07")
    world.inspect(lot_batch)
    world.listed_product(gtin="6971234560018", batches=[world.batch, lot_batch])
    code = world.batch.trace_code
    for path in [f"/01/06971234560018/10/{code}", f"/01/6971234560018/10/{code}/",
                 f"/01/06971234560018/10/{code.lower()}"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == f"/t/{code}/", path
    assert client.get("/01/06971234560018/10/LM2025-07")["Location"] == f"/t/{lot_batch.trace_code}/"
    assert selectors.digital_link_path(lot_batch) == "/01/06971234560018/10/LM2025-07"
    # A lot processed from the batch resolves to it too.
    services.record_transformation(actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="10")],
                                   output_name="蓝莓干", output_lot="GG-01", output_quantity="2", output_unit="jin",
                                   processed_at=timezone.now() - dt.timedelta(hours=1))
    assert client.get("/01/06971234560018/10/GG-01")["Location"] == f"/t/{code}/"
    # Another product's GTIN does not reach this batch.
    assert client.get(f"/01/06971234560025/10/{code}").status_code == 404


def test_epcis_document_shape(client):
    world = build_world()
    buyer_home = build_world().village
    # Sampled on the harvest day, so every later step is after the inspection whatever the time of day.
    two_days_ago = timezone.localdate() - dt.timedelta(days=2)
    with_certificate(world, sampled_on=two_days_ago)
    other = world.new_batch(quantity="200")
    with_certificate(world, other, sampled_on=two_days_ago)
    product = world.listed_product(gtin="6971234560018", batches=[world.batch, other])
    services.record_transformation(
        actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="400"),
                                      services.InputUse(batch=other, quantity="100")],
        output_name="蓝莓果干", output_lot="GG-01", output_quantity="60", output_unit="jin",
        processed_at=timezone.now() - dt.timedelta(hours=5))
    services.record_packing(actor=world.operator, batch=world.batch, lot="GG-01", cases=2, packs_per_case=3,
                            pack_unit="bag", packed_at=timezone.now() - dt.timedelta(hours=4))
    services.record_shipment(batch=world.batch, shipped_at=timezone.now() - dt.timedelta(hours=3), carrier="邮政EMS",
                             region=world.village, destination=buyer_home, quantity="2", unit="bag")
    services.record_receipt(batch=world.batch, received_at=timezone.now() - dt.timedelta(hours=1), region=buyer_home)

    response = client.get(f"/api/v1/trace/{world.batch.trace_code}/epcis")
    assert response.status_code == 200
    doc = response.json()
    assert doc["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    dt.datetime.fromisoformat(doc["creationDate"])
    events = doc["epcisBody"]["eventList"]
    types = [e["type"] for e in events]
    assert types == ["ObjectEvent", "ObjectEvent", "TransformationEvent", "AggregationEvent", "AggregationEvent",
                     "ObjectEvent", "ObjectEvent"]
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    for event in events:
        dt.datetime.fromisoformat(event["eventTime"])
        assert OFFSET.match(event["eventTimeZoneOffset"]), event["eventTimeZoneOffset"]
        assert event["bizStep"] in CBV_STEPS and event["disposition"] in CBV_DISPOSITIONS
        assert event["readPoint"]["id"].startswith(f"{BASE}/regions/")
        for key in ("quantityList", "inputQuantityList", "outputQuantityList"):
            for q in event.get(key, []):
                assert set(q) <= {"epcClass", "quantity", "uom"} and isinstance(q["quantity"], float)
                assert q.get("uom", "KGM") == "KGM"
                assert q["epcClass"].startswith((f"{BASE}/01/", "urn:zhunong:lot:"))
        assert ("action" in event) == (event["type"] != "TransformationEvent")

    harvest, inspection, transformation, case1, case2, shipping, receiving = events
    assert harvest["action"] == "ADD" and harvest["bizStep"] == "commissioning"
    assert harvest["ilmd"]["zhunong:crop"] == "蓝莓" and harvest["ilmd"]["zhunong:plotAreaMu"] == 12.5
    # Raw material that was processed keeps the platform URN; the processed lot carries the GTIN.
    assert harvest["quantityList"] == [{"epcClass": f"urn:zhunong:lot:{world.batch.trace_code}",
                                        "quantity": 400.0, "uom": "KGM"}]  # 800 斤
    assert inspection["disposition"] == "conformant" and inspection["certificationInfo"].startswith(BASE)
    assert transformation["inputQuantityList"] == [
        {"epcClass": f"urn:zhunong:lot:{world.batch.trace_code}", "quantity": 200.0, "uom": "KGM"},
        {"epcClass": f"urn:zhunong:lot:{other.trace_code}", "quantity": 50.0, "uom": "KGM"}]
    assert transformation["outputQuantityList"] == [
        {"epcClass": f"{BASE}/01/06971234560018/10/GG-01", "quantity": 30.0, "uom": "KGM"}]
    assert transformation["bizStep"] == "commissioning"
    assert case1["parentID"] == f"urn:zhunong:case:{world.batch.trace_code}.1"
    assert case2["parentID"] == f"urn:zhunong:case:{world.batch.trace_code}.2"
    assert case1["childEPCs"] == [f"{BASE}/01/06971234560018/21/{world.batch.trace_code}001{n:03d}"
                                  for n in (1, 2, 3)]
    assert case1["action"] == "ADD" and case1["disposition"] == "container_closed"
    assert shipping["bizStep"] == "shipping" and shipping["disposition"] == "in_transit"
    assert "bizLocation" not in shipping
    assert shipping["quantityList"][0]["quantity"] == 2.0 and "uom" not in shipping["quantityList"][0]
    city = buyer_home.ancestor_at("city")
    assert shipping["destinationList"] == [{"type": "location", "destination": f"{BASE}/regions/{city.code}/"}]
    assert receiving["bizStep"] == "receiving" and receiving["bizLocation"]["id"] == f"{BASE}/regions/{city.code}/"
    assert receiving["epcList"] == []  # received without a stated quantity: no amount is claimed
    # The same events appear in the other input's document (the transformation belongs to both chains).
    other_doc = client.get(f"/api/v1/trace/{other.trace_code}/epcis").json()
    assert transformation["eventID"] in [e["eventID"] for e in other_doc["epcisBody"]["eventList"]]
    assert product.gtin == "6971234560018"


def test_epcis_without_gtin_uses_platform_urns_and_failed_inspections_are_non_conformant(client):
    world = build_world()
    world.inspect(result="fail")
    events = client.get(f"/api/v1/trace/{world.batch.trace_code}/epcis").json()["epcisBody"]["eventList"]
    assert events[0]["quantityList"][0]["epcClass"] == f"urn:zhunong:lot:{world.batch.trace_code}"
    assert events[1]["disposition"] == "non_conformant"


def test_trace_page_chain_lists_processing_packing_and_shipping(client):
    world = build_world()
    services.record_transformation(actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="500")],
                                   output_name="蓝莓果酱", output_lot="GJ-01", output_quantity="300",
                                   output_unit="jin", processed_at=timezone.now() - dt.timedelta(hours=3))
    services.record_packing(actor=world.operator, batch=world.batch, lot="GJ-01", cases=4, packs_per_case=12,
                            pack_unit="box", packed_at=timezone.now() - dt.timedelta(hours=2))
    services.record_shipment(batch=world.batch, shipped_at=timezone.now() - dt.timedelta(hours=1), carrier="邮政EMS",
                             region=world.village, destination=build_world().village, quantity="1", unit="box")
    html = client.get(f"/t/{world.batch.trace_code}/").content.decode()
    for text in ["加工", "蓝莓果酱", "GJ-01", "包装", "4 箱", "12 盒", "发货", "邮政EMS", "青岛市"]:
        assert text in html, text


def test_unlisted_batches_show_no_products_and_pending_inspection(client):
    world = build_world()
    batch = producers.create_batch(actor=world.operator, plot=world.plot, harvested_on=timezone.localdate(),
                                   quantity="10")
    product = world.draft_product(batches=[batch])
    catalog.submit_for_inspection(actor=world.operator, product=product)
    html = client.get(f"/t/{batch.trace_code}/").content.decode()
    assert "尚未抽检" in html and f"/p/{product.pk}/" not in html


def test_trace_page_in_english(client):
    world = build_world()
    world.inspect()
    client.cookies["django_language"] = "en"
    response = client.get(f"/t/{world.batch.trace_code}/")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()
