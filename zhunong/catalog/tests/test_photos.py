"""Product photos: checked by content, cleaned, rendered, ordered; the page, the API and the storefront."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from zhunong.accounts import roles
from zhunong.catalog import services as catalog
from zhunong.catalog.models import ProductImage
from zhunong.core.errors import PermissionDenied
from zhunong.core.images import ImageRefused
from zhunong.testing import api_auth, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.MEDIA_ROOT = tmp_path
    settings.IMAGE_MAX_BYTES = 2 * 1024 * 1024
    settings.IMAGE_MAX_PIXELS = 4_000_000


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks, monkeypatch):  # noqa: ANN001, ANN202
    """Run after-commit work (the renditions, queued to Huey, inline in tests) as each service returns."""
    real = catalog.add_product_image

    def add(**kwargs):  # noqa: ANN003, ANN202
        with django_capture_on_commit_callbacks(execute=True):
            return real(**kwargs)

    monkeypatch.setattr(catalog, "add_product_image", add)
    return django_capture_on_commit_callbacks


def picture(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), *, exif_orientation: int | None = None,
            gps: bool = False, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 60, 40))
    image.paste((30, 120, 60), (0, 0, size[0] // 2, size[1]))  # left half green: shows the orientation
    buf = io.BytesIO()
    kwargs = {}
    if exif_orientation or gps:
        exif = Image.Exif()
        if exif_orientation:
            exif[0x0112] = exif_orientation
        if gps:
            exif[0x010F] = "PhoneMaker"  # Make
            exif[0x8825] = {1: "N", 2: (36.0, 18.0, 0.0)}
        kwargs["exif"] = exif.tobytes()
    image.save(buf, fmt, **kwargs)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=content_type)


def files_under(root) -> list:  # noqa: ANN001
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_upload_is_cleaned_rendered_and_shown_with_srcset(client, world, tmp_path):
    product = world.listed_product()
    image = catalog.add_product_image(actor=world.operator, product=product,
                                      upload=picture(exif_orientation=6, gps=True), caption="刚摘的")
    image.refresh_from_db()
    # Huey runs inline in tests: the renditions are made after the commit.
    assert image.status == "ready"
    assert (image.width, image.height) == (800, 1200)  # orientation 6 applied: portrait now
    widths = [r["w"] for r in image.renditions["webp"]]
    assert widths == [240, 480, 800]  # and its own width, never enlarged to 960
    assert image.renditions["jpeg"]["w"] == 480
    for name in [image.image.name, image.renditions["jpeg"]["path"], *[r["path"] for r in image.renditions["webp"]]]:
        with default_storage.open(name, "rb") as fh:
            out = Image.open(io.BytesIO(fh.read()))
            assert not out.getexif(), name  # no EXIF left (GPS, maker, orientation)
            assert out.height > out.width
    html = client.get(f"/p/{product.pk}/").content.decode()
    assert 'type="image/webp"' in html and "480w" in html and "800w" in html and 'sizes="' in html
    assert "暂无商品实拍图" not in html
    home = client.get("/").content.decode()
    assert "240w" in home


@pytest.mark.parametrize(("upload", "reason"), [
    (SimpleUploadedFile("x.jpg", b"GIF89a" + b"\0" * 100, content_type="image/jpeg"), "not_an_image"),
    (SimpleUploadedFile("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/png"),
     "not_an_image"),
    (SimpleUploadedFile("x.jpg", b"", content_type="image/jpeg"), "empty"),
])
def test_refused_uploads_store_nothing(world, tmp_path, upload, reason):  # noqa: ANN001
    product = world.draft_product()
    with pytest.raises(ImageRefused) as exc:
        catalog.add_product_image(actor=world.operator, product=product, upload=upload)
    assert exc.value.details["reason"] == reason
    assert exc.value.code == "image_invalid"
    assert not ProductImage.objects.exists()
    assert files_under(tmp_path) == []


def test_gif_by_content_is_refused_whatever_its_name(world, tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buf, "GIF")
    with pytest.raises(ImageRefused) as exc:
        catalog.add_product_image(actor=world.operator, product=world.draft_product(),
                                  upload=SimpleUploadedFile("ok.jpg", buf.getvalue(), content_type="image/jpeg"))
    assert exc.value.details["reason"] == "format_not_allowed"
    assert files_under(tmp_path) == []


def test_truncated_too_big_too_many_pixels_too_small(world, tmp_path, settings):
    product = world.draft_product()
    whole = picture().read()
    cases = [
        (SimpleUploadedFile("t.jpg", whole[: len(whole) // 2]), "damaged"),
        (picture("PNG", (3000, 2000), name="big.png"), "too_many_pixels"),  # 6 Mpx > 4 Mpx
        (picture("PNG", (40, 300), name="thin.png"), "too_small"),
    ]
    settings.IMAGE_MAX_BYTES = 10 * 1024 * 1024
    for upload, reason in cases:
        with pytest.raises(ImageRefused) as exc:
            catalog.add_product_image(actor=world.operator, product=product, upload=upload)
        assert exc.value.details["reason"] == reason, reason
    settings.IMAGE_MAX_BYTES = 1000
    with pytest.raises(ImageRefused) as exc:
        catalog.add_product_image(actor=world.operator, product=product, upload=picture())
    assert exc.value.details["reason"] == "too_large"
    assert files_under(tmp_path) == [] and not ProductImage.objects.exists()


def test_decompression_bomb_is_refused_from_its_header(world, tmp_path, settings):
    # A PNG whose header claims 20000 x 20000 pixels, compressed to a few kilobytes.
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(ImageRefused) as exc:
        catalog.add_product_image(actor=world.operator, product=world.draft_product(),
                                  upload=SimpleUploadedFile("bomb.png", buf.getvalue()))
    assert exc.value.details["reason"] == "too_many_pixels"
    assert files_under(tmp_path) == []


def test_png_and_webp_with_transparency_and_a_small_picture(world):
    product = world.draft_product()
    buf = io.BytesIO()
    Image.new("RGBA", (300, 200), (10, 200, 10, 120)).save(buf, "WEBP")
    a = catalog.add_product_image(actor=world.operator, product=product, upload=SimpleUploadedFile("a", buf.getvalue()))
    b = catalog.add_product_image(actor=world.operator, product=product, upload=picture("PNG", (200, 150)))
    a.refresh_from_db()
    b.refresh_from_db()
    assert [r["w"] for r in a.renditions["webp"]] == [240, 300]
    assert [r["w"] for r in b.renditions["webp"]] == [200]  # never enlarged
    assert b.renditions["jpeg"]["w"] == 200


def test_order_cover_and_remove(world, tmp_path, _commits):  # noqa: ANN001
    product = world.draft_product()
    first, second, third = (catalog.add_product_image(actor=world.operator, product=product, upload=picture(),
                                                      caption=c) for c in ("一", "二", "三"))
    catalog.move_product_image(actor=world.operator, image=third, to=0)
    assert list(product.images.values_list("caption", flat=True)) == ["三", "一", "二"]
    cover = catalog.add_product_image(actor=world.operator, product=product, upload=picture(), as_cover=True,
                                      caption="封面")
    assert list(product.images.values_list("caption", "position")) == [("封面", 0), ("三", 1), ("一", 2), ("二", 3)]
    cover.refresh_from_db()
    names = [cover.image.name, *[r["path"] for r in cover.renditions["webp"]]]
    with _commits(execute=True):  # the files go after the commit
        catalog.delete_product_image(actor=world.operator, image=cover)
    assert list(product.images.values_list("caption", "position")) == [("三", 0), ("一", 1), ("二", 2)]
    assert not any(default_storage.exists(n) for n in names)


def test_producer_manager_may_manage_photos_a_buyer_may_not(world):
    product = world.draft_product()
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    catalog.add_product_image(actor=manager, product=product, upload=picture())
    with pytest.raises(PermissionDenied):
        catalog.add_product_image(actor=make_user(), product=product, upload=picture())
    assert product.images.count() == 1


def test_photos_page_upload_and_refusal(client, world):
    product = world.listed_product()
    client.force_login(world.operator)
    assert f'href="/p/{product.pk}/photos/"' in client.get("/photos/").content.decode()
    resp = client.post(f"/p/{product.pk}/photos/upload/", {"image": picture(), "caption": "果园"}, follow=True)
    assert "图片已上传" in resp.content.decode()
    assert product.images.get().caption == "果园"
    resp = client.post(f"/p/{product.pk}/photos/upload/",
                       {"image": SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a picture")}, follow=True)
    assert "这个文件不是图片" in resp.content.decode()
    assert product.images.count() == 1
    client.force_login(make_user())
    assert client.get(f"/p/{product.pk}/photos/").status_code == 403
    assert client.get("/photos/").status_code == 403


def test_photos_api(client, world):
    product = world.draft_product()
    auth = api_auth(world.operator)
    url = f"/api/v1/products/{product.pk}/images"
    resp = client.post(url, {"file": picture(), "caption": "实拍"}, **auth)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "ready" and "960w" in body["srcset"] and body["position"] == 0
    resp = client.post(url, {"file": SimpleUploadedFile("a.png", b"not an image")}, **auth)
    assert resp.status_code == 422 and resp.json()["code"] == "image_invalid"
    second = client.post(url, {"file": picture("PNG", name="b.png")}, **auth).json()
    resp = client.patch(f"{url}/{second['id']}", json.dumps({"position": 0, "caption": "封面"}),
                        content_type="application/json", **auth)
    assert resp.status_code == 200 and resp.json()["position"] == 0
    assert [p["id"] for p in client.get(url, **auth).json()] == [second["id"], body["id"]]
    resp = client.patch(f"{url}/{second['id']}", json.dumps({"position": "0"}), content_type="application/json",
                        **auth)
    assert resp.status_code == 422
    assert client.delete(f"{url}/{body['id']}", **auth).status_code == 204
    assert client.get(url, **api_auth(make_user())).status_code == 403


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_malformed_multipart_body_is_a_400_and_stores_nothing(client, world, content_type):
    # Found by schemathesis (ST102): a multipart Content-Type without a boundary reached the parser and
    # answered 500.
    product = world.draft_product()
    resp = client.post(f"/api/v1/products/{product.pk}/images", b"--x\r\n", content_type=content_type,
                       **api_auth(world.operator))
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "bad_request"
    assert not ProductImage.objects.filter(product=product).exists()
