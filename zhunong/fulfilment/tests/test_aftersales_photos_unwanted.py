"""After-sales photo evidence (checked by core/images.py, kept privately, seen by the buyer and the decider)
and the 拍多了/不想要 reason (before shipment only, refund only, through the one transition table)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from zhunong.accounts import roles
from zhunong.core.images import ImageRefused
from zhunong.fulfilment.errors import AfterSalesNotAllowed, PhotosClosed, TooManyPhotos
from zhunong.fulfilment.models import AfterSalesPhoto, AfterSalesRequest
from zhunong.fulfilment.rules import MAX_AFTER_SALES_PHOTOS, reasons_for
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.fulfilment.storage import photo_storage
from zhunong.orders.errors import NotYourOrder
from zhunong.testing import api_auth, make_user

from .conftest import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _photo_root(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.AFTER_SALES_PHOTO_ROOT = tmp_path / "after-sales"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMAGE_MAX_BYTES = 2 * 1024 * 1024
    settings.IMAGE_MAX_PIXELS = 4_000_000


def photo(size: tuple[int, int] = (1200, 900), *, gps: bool = False, orientation: int | None = None,
          fmt: str = "JPEG", name: str = "box.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", size, (180, 40, 40))
    image.paste((20, 140, 60), (0, 0, size[0] // 2, size[1]))
    buf = io.BytesIO()
    kwargs = {}
    if gps or orientation:
        exif = Image.Exif()
        if gps:
            exif[0x010F] = "PhoneMaker"
            exif[0x8825] = {1: "N", 2: (36.0, 18.0, 0.0)}
        if orientation:
            exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(buf, fmt, **kwargs)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def _request(fw, line, **kwargs):  # noqa: ANN001, ANN003, ANN202
    values = {"kind": "refund_only", "reason": "damaged", "evidence": "箱子压坏了，见照片"}
    values.update(kwargs)
    return after_sales_services.request_after_sales(actor=fw.buyer, line=line, **values)


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def _ship(fw, order):  # noqa: ANN001, ANN202
    shipment = order.shipments.get(producer=fw.producer)
    return shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf",
                                           tracking_number="SF1234567890123")


# ---------------------------------------------------------------- photos: service


def test_photos_are_checked_cleaned_and_kept_privately(fw, settings):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = _request(fw, order.lines.get(), photos=[photo(gps=True, orientation=6), photo((800, 600), fmt="PNG")])
    photos = list(req.photos.all())
    assert [p.position for p in photos] == [0, 1]
    # orientation 6 (turned 90°) is applied: the 1200 x 900 picture is kept upright as 900 x 1200
    assert (photos[0].width, photos[0].height) == (900, 1200)
    storage = photo_storage()
    with storage.open(photos[0].image, "rb") as fh:
        master = Image.open(io.BytesIO(fh.read()))
    assert master.format == "WEBP" and master.size == (900, 1200)
    assert not master.getexif()  # the GPS block and the maker are gone
    with storage.open(photos[0].thumbnail, "rb") as fh:
        thumb = Image.open(io.BytesIO(fh.read()))
    assert thumb.format == "WEBP" and max(thumb.size) == 320
    # outside MEDIA_ROOT: nothing serves the folder as /media/
    assert not str(storage.path(photos[0].image)).startswith(str(settings.MEDIA_ROOT))


@pytest.mark.parametrize(("upload", "reason"), [
    (SimpleUploadedFile("x.jpg", b"GIF89a" + b"\0" * 100), "not_an_image"),
    (SimpleUploadedFile("x.jpg", b""), "empty"),
])
def test_a_bad_photo_refuses_the_whole_request(fw, upload, reason):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    with pytest.raises(ImageRefused) as exc:
        _request(fw, order.lines.get(), photos=[photo(), upload])
    assert exc.value.details["reason"] == reason
    assert not AfterSalesRequest.objects.exists() and not AfterSalesPhoto.objects.exists()
    root = photo_storage().location
    assert not any(p.is_file() for p in __import__("pathlib").Path(root).rglob("*"))


def test_at_most_six_photos(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1), (fw.product2, 1)])
    with pytest.raises(TooManyPhotos):
        _request(fw, order.lines.get(product=fw.product), photos=[photo((100, 100))] * (MAX_AFTER_SALES_PHOTOS + 1))
    req = _request(fw, order.lines.get(product=fw.product2),
                   photos=[photo((100, 100)) for _ in range(MAX_AFTER_SALES_PHOTOS - 1)])
    after_sales_services.add_after_sales_photo(actor=fw.buyer, request=req, upload=photo((100, 100)))
    with pytest.raises(TooManyPhotos):
        after_sales_services.add_after_sales_photo(actor=fw.buyer, request=req, upload=photo((100, 100)))
    assert req.photos.count() == MAX_AFTER_SALES_PHOTOS


def test_only_the_buyer_adds_photos_and_only_while_open(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = _request(fw, order.lines.get())
    with pytest.raises(NotYourOrder):
        after_sales_services.add_after_sales_photo(actor=fw.manager, request=req, upload=photo())
    after_sales_services.reject_after_sales(actor=fw.manager, request=req, note="照片看不出破损")
    with pytest.raises(PhotosClosed):
        after_sales_services.add_after_sales_photo(actor=fw.buyer, request=req, upload=photo())


# ---------------------------------------------------------------- photos: pages and API


def test_buyer_and_decider_see_the_photos_others_do_not(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    req = _request(fw, order.lines.get(), photos=[photo()])
    p = req.photos.get()
    thumb, full = f"/fulfilment/after-sales/photos/{p.pk}/thumb/", f"/fulfilment/after-sales/photos/{p.pk}/full/"
    buyer = _client(fw.buyer)
    assert thumb in buyer.get(f"/fulfilment/orders/{order.pk}/").content.decode()
    response = buyer.get(full)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff" and "private" in response["Cache-Control"]
    manager = _client(fw.manager)
    assert thumb in manager.get("/fulfilment/").content.decode()  # the decision list shows them
    assert manager.get(thumb).status_code == 200
    assert _client(fw.operator).get(thumb).status_code == 200  # the county operator decides too
    for outsider in (fw.manager2, make_user(roles.BUYER)):
        assert _client(outsider).get(thumb).status_code == 404
    assert Client().get(thumb).status_code == 302  # to sign-in
    assert buyer.get(f"/fulfilment/after-sales/photos/{p.pk}/other/").status_code == 404


def test_the_form_sends_photos_multipart(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    buyer = _client(fw.buyer)
    page = buyer.get(f"/fulfilment/orders/{order.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    response = buyer.post(f"/fulfilment/lines/{line.pk}/after-sales/", {
        "kind": "refund_only", "reason": "damaged", "evidence": "压坏了", "photos": [photo(), photo((640, 480))]})
    assert response.status_code == 302
    assert AfterSalesRequest.objects.get(line=line).photos.count() == 2
    # a refused file is said on the page and nothing is kept
    line2 = paid_order(fw.buyer, [(fw.product, 1)]).lines.get()
    response = buyer.post(f"/fulfilment/lines/{line2.pk}/after-sales/", {
        "kind": "refund_only", "reason": "damaged", "evidence": "压坏了",
        "photos": [SimpleUploadedFile("a.jpg", b"not a picture")]}, follow=True)
    assert "image_invalid" in response.content.decode()
    assert not AfterSalesRequest.objects.filter(line=line2).exists()


def test_api_upload_and_list(fw, client):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    auth = api_auth(fw.buyer)
    created = client.post("/api/v1/fulfilment/after-sales", {
        "order_line_id": order.lines.get().pk, "kind": "refund_only", "reason": "damaged", "evidence": "压坏了"},
        content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["photos"] == []
    rid = created.json()["id"]
    up = client.post(f"/api/v1/fulfilment/after-sales/{rid}/photos", {"file": photo()}, **auth)
    assert up.status_code == 201, up.content
    body = up.json()
    assert body["url"].endswith("/full/") and body["thumbnail_url"].endswith("/thumb/") and body["width"] == 1200
    bad = client.post(f"/api/v1/fulfilment/after-sales/{rid}/photos",
                      {"file": SimpleUploadedFile("x.png", b"<svg/>")}, **auth)
    assert bad.status_code == 422 and bad.json()["code"] == "image_invalid"
    other = client.post(f"/api/v1/fulfilment/after-sales/{rid}/photos", {"file": photo()},
                        **api_auth(fw.manager))
    assert other.status_code == 403 and other.json()["code"] == "not_your_order"
    listed = client.get("/api/v1/fulfilment/after-sales", **auth).json()
    assert [p["id"] for p in listed[0]["photos"]] == [body["id"]]


# ---------------------------------------------------------------- 拍多了/不想要


def test_unwanted_before_shipment_refunds_the_unshipped_units(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 2)])
    line = order.lines.get()
    unit = line.paid_amount / 2
    req = _request(fw, line, reason="unwanted", evidence="拍多了一箱", amount=str(unit))
    after_sales_services.approve_after_sales(actor=fw.manager, request=req)
    req.refresh_from_db()
    assert req.status == "refunded"
    assert list(req.history.values_list("to_status", flat=True)) == ["requested", "approved", "refunded"]
    item = order.shipments.get().items.get()
    assert (item.refunded_units, item.to_ship) == (1, 1)  # the packing list ships what is left


def test_unwanted_is_refused_after_shipment_and_as_a_return(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    line = order.lines.get()
    with pytest.raises(AfterSalesNotAllowed):  # nothing was sent, so nothing to send back
        _request(fw, line, reason="unwanted", kind="return_refund")
    _ship(fw, order)
    with pytest.raises(AfterSalesNotAllowed) as exc:
        _request(fw, line, reason="unwanted")
    assert exc.value.details["field"] == "reason"
    assert _request(fw, line, reason="quality").status == "requested"  # other reasons still apply


def test_packed_counts_as_not_shipped(fw):  # noqa: ANN001
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment_services.pack_shipment(actor=fw.manager, shipment=order.shipments.get())
    assert _request(fw, order.lines.get(), reason="unwanted").amount == order.lines.get().refundable


def test_the_form_offers_unwanted_only_before_shipment(fw):  # noqa: ANN001
    assert ("unwanted", "拍多了/不想要") in [(v, str(label)) for v, label in reasons_for(shipped=False)]
    assert "unwanted" not in [v for v, _ in reasons_for(shipped=True)]
    order = paid_order(fw.buyer, [(fw.product, 1)])
    buyer = _client(fw.buyer)
    page = buyer.get(f"/fulfilment/orders/{order.pk}/").content.decode()
    assert 'value="unwanted"' in page and 'value="return_refund"' not in page
    _ship(fw, order)
    page = buyer.get(f"/fulfilment/orders/{order.pk}/").content.decode()
    assert 'value="unwanted"' not in page and 'value="return_refund"' in page
    assert Decimal(order.lines.get().refundable) > 0
