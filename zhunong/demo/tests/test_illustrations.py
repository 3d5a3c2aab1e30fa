"""The demo's drawn product illustrations: one per kind, a sound picture, stored through the photo pipeline."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from zhunong.catalog import services as catalog
from zhunong.catalog.models import ProductImage
from zhunong.core import images
from zhunong.demo import illustrations
from zhunong.testing import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(("name", "drawing"), [
    ("安化黑茶·明前千两茶 500克饼", "_tea_cake"), ("安化茯砖茶 1千克", "_tea_brick"), ("安化明前云尖绿茶 250克", "_tea_leaves"),
    ("洋河蓝莓 125克×4盒", "_berries"), ("雪多牦牛肉干 500克", "_jerky"), ("雪多牦牛肉 冷冻牛腱 1千克", "_beef"),
    ("安化柴火腊肉 500克", "_pork"), ("丰城富硒米礼盒 2.5千克", "_rice_gift"), ("敖汉小米 2.5千克", "_millet"),
    ("仲坪村稻花香大米 5千克", "_rice"), ("大北山榛蘑 250克", "_mushrooms"), ("柞水木耳 250克", "_wood_ear"),
    ("仲坪村朝鲜族辣白菜 2千克", "_kimchi"), ("土蜂蜜 500克", "_honey"), ("山核桃", "_produce"),
])
def test_each_kind_of_product_gets_its_drawing(name: str, drawing: str) -> None:
    assert illustrations.kind_of(name).__name__ == drawing


def test_koi_varieties_are_told_apart() -> None:
    plain, sanke = illustrations.illustration("镇平锦鲤 红白"), illustrations.illustration("镇平锦鲤 大正三色")
    assert plain != sanke


def test_an_illustration_is_a_square_picture_the_pipeline_accepts_and_the_same_every_time() -> None:
    data = illustrations.illustration("柞水木耳 250克")
    checked = images.check(data)
    assert (checked.width, checked.height) == (illustrations.SIZE, illustrations.SIZE)
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert illustrations.illustration("柞水木耳 250克") == data  # seeded by the name: a rerun draws the same


def test_illustrate_gives_each_product_without_a_photo_one_ready_photo_once(world) -> None:  # noqa: ANN001
    bare = world.listed_product(name="洋河蓝莓 125克")
    photographed = world.listed_product(name="洋河蓝莓 500克")
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (40, 40, 160)).save(buf, "JPEG")
    catalog.add_product_image(actor=world.operator, product=photographed, upload=buf.getvalue(), caption="实拍")
    admin = make_admin()

    assert illustrations.illustrate(actor=admin) == 1
    drawn = ProductImage.objects.get(product=bare)
    assert drawn.is_ready and drawn.caption == "演示插画（非实拍）：洋河蓝莓 125克"
    assert [r["w"] for r in drawn.renditions["webp"]] == [240, 480, 960]
    assert list(photographed.images.values_list("caption", flat=True)) == ["实拍"]  # a real photo is left alone
    assert illustrations.illustrate(actor=admin) == 0  # idempotent: the demo seeds on every `make demo`
