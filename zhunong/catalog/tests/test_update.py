"""update_product, GTIN uniqueness and product images: the services behind PATCH and the admin."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from zhunong.catalog import services
from zhunong.catalog.errors import BatchStillNeeded, BelowCostWithoutReason, GtinTaken
from zhunong.catalog.models import ListingStatus, ProductImage
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.producers.errors import OutsideRegion
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import build_world

pytestmark = pytest.mark.django_db


def test_update_product_changes_fields_and_reindexes(world):
    product = world.draft_product()
    services.update_product(actor=world.operator, product=product, name="胶州蓝莓", stock=7, description="甜")
    product.refresh_from_db()
    assert (product.name, product.stock, product.description) == ("胶州蓝莓", 7, "甜")
    assert "胶州" in product.search_text
    assert product.price_history.count() == 1  # no price change, no price history


def test_update_product_price_goes_through_change_price(world):
    product = world.listed_product()
    with pytest.raises(BelowCostWithoutReason):
        services.update_product(actor=world.operator, product=product, price="10")
    product.refresh_from_db()
    assert product.price == Decimal("39.90")
    services.update_product(actor=world.operator, product=product, price="10", below_cost_reason="清库")
    product.refresh_from_db()
    assert (product.price, product.below_cost_reason) == (Decimal("10.00"), "清库")
    assert product.price_history.count() == 2
    assert IntegrityFlag.objects.filter(kind="below_cost").count() == 1
    assert product.status == ListingStatus.LISTED


def test_update_product_refuses_unknown_fields_and_status(world):
    product = world.draft_product()
    with pytest.raises(ValidationFailed):
        services.update_product(actor=world.operator, product=product, status="listed")
    product.refresh_from_db()
    assert product.status == ListingStatus.DRAFT


def test_new_batch_by_update_sends_listed_back_and_last_batch_stays(world):
    product = world.listed_product()
    batch = world.new_batch()
    services.update_product(actor=world.operator, product=product, batches=[world.batch, batch])
    product.refresh_from_db()
    assert product.status == ListingStatus.AWAITING_INSPECTION
    with pytest.raises(BatchStillNeeded):
        services.update_product(actor=world.operator, product=product, batches=[])
    assert product.batches.count() == 2
    # Dropping the uninspected batch leaves only passed ones: the operator may list it again.
    services.update_product(actor=world.operator, product=product, batches=[world.batch])
    assert product.batches.count() == 1
    assert services.list_product(actor=world.operator, product=product).status == ListingStatus.LISTED


def test_update_product_checks_region_of_old_and_new_origin(world):
    product = world.draft_product()
    other = build_world()
    with pytest.raises(OutsideRegion):
        services.update_product(actor=other.operator, product=product, name="别人改")
    with pytest.raises(OutsideRegion):
        services.update_product(actor=world.operator, product=product, origin=other.county)
    with pytest.raises(PermissionDenied):
        services.update_product(actor=world.regulator, product=product, stock=1)


def test_gtin_is_unique_but_a_product_keeps_its_own(world):
    first = world.draft_product(gtin="6901234567892")
    services.update_product(actor=world.operator, product=first, gtin="6901234567892", name="同码")
    with pytest.raises(GtinTaken):
        world.draft_product(name="撞码", gtin="6901234567892")
    second = world.draft_product(name="二号")
    with pytest.raises(GtinTaken):
        services.update_product(actor=world.operator, product=second, gtin="6901234567892")
    services.update_product(actor=world.operator, product=first, gtin="")
    first.refresh_from_db()
    assert first.gtin is None


def test_product_images_through_services(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = world.draft_product()
    buf = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buf, format="PNG")
    image = services.save_product_image(actor=world.operator, product=product,
                                        image=SimpleUploadedFile("a.png", buf.getvalue()), caption="实拍")
    services.save_product_image(actor=world.operator, product=product, existing=image, caption="果园", position=2)
    image.refresh_from_db()
    # Positions stay 0, 1, 2... in order: asking for 2 with one photo keeps it first.
    assert (image.caption, image.position) == ("果园", 0)
    with pytest.raises(ValidationFailed):
        services.save_product_image(actor=world.operator, product=product, caption="没有图")
    with pytest.raises(ValidationFailed):
        services.save_product_image(actor=world.operator, product=product, existing=image, caption="坏\x00")
    with pytest.raises(PermissionDenied):
        services.delete_product_image(actor=world.regulator, image=image)
    services.delete_product_image(actor=world.operator, image=image)
    assert not ProductImage.objects.exists()
