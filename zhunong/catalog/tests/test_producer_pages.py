"""Producer/co-op and region pages as a buyer sees them; masked data never leaks (moved from producers: the
pages list products, so they are catalog's)."""

from __future__ import annotations

import re

import pytest

from zhunong.catalog import services as catalog
from zhunong.producers.models import Producer
from zhunong.producers.services import create_plot, create_producer, create_region

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ACCOUNT = "6222020200001234"


def text(response) -> str:  # noqa: ANN001
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def coop(world):
    coop = create_producer(actor=world.operator, name="洋河蓝莓专业合作社", village=world.village,
                           kind=Producer.Kind.COOPERATIVE, description="二十三户社员统一种植、统一分拣。",
                           contact_name="李社长", contact_phone=PHONE, payee_name="洋河蓝莓专业合作社",
                           payee_account=ACCOUNT, shipping_address="洋河镇山里村村委会东 200 米")
    coop.members.add(world.producer)
    return coop


def test_cooperative_page_shows_profile_and_masks_contact_and_payee(client, world, coop):
    plot = create_plot(actor=world.operator, producer=coop, name="合作社基地", area_mu="80", crop="蓝莓")
    world.producer, world.plot = coop, plot
    world.batch = world.new_batch()
    product = world.listed_product(name="合作社蓝莓礼盒")
    response = client.get(f"/producers/{coop.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    page = text(response)
    assert "洋河蓝莓专业合作社" in page and "合作社" in page
    assert "山东省青岛市胶州市洋河镇山里村" in page
    assert "二十三户社员统一种植、统一分拣。" in page
    assert "1 户" in page  # member count, not the members
    assert "139****5678" in page
    assert "洋*** · 账号 ************1234" in page
    assert f'href="/p/{product.pk}/"' in html and "合作社蓝莓礼盒" in page
    # Never in full, anywhere in the HTML (including attributes and comments).
    assert PHONE not in html and ACCOUNT not in html
    assert "李社长" not in html and "村委会东" not in html


def test_household_page_masks_payee_and_hides_poverty_registration(client, world):
    world.producer.contact_phone = PHONE
    world.producer.save(update_fields=["contact_phone"])
    world.listed_product()
    response = client.get(f"/producers/{world.producer.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "鲁家蓝莓园" in html
    assert ACCOUNT not in html and PHONE not in html
    assert "鲁*" in html and "鲁某" not in html
    assert "建档立卡" not in html and "贫困" not in html


def test_household_without_public_products_is_not_published(client, world):
    world.draft_product()
    assert client.get(f"/producers/{world.producer.pk}/").status_code == 404


def test_producer_page_lists_only_listed_products(client, world):
    world.listed_product(name="洋河蓝莓")
    world.draft_product(name="蓝莓果酱")
    delisted = world.listed_product(name="去年的蓝莓干")
    catalog.delist_product(actor=world.operator, product=delisted, reason="售完")
    page = text(client.get(f"/producers/{world.producer.pk}/"))
    assert "洋河蓝莓" in page and "蓝莓果酱" not in page and "去年的蓝莓干" not in page


@pytest.mark.parametrize("path", ["/producers/999999/", "/producers/0/", "/producers/99999999999999999999999/",
                                  "/producers/x/"])
def test_unknown_producers_are_404(client, db, path):
    assert client.get(path).status_code == 404


def test_region_page_shows_subtree_products_and_producers(client, world, coop):
    blueberry = world.listed_product(name="洋河蓝莓")
    # Another village in the same county, and a product from another county altogether.
    other_village = create_region(code=f"{world.village.code}b", name="河东村", level="village",
                                  parent=world.regions["township"])
    herder = create_producer(actor=world.operator, name="河东家庭农场", village=other_village)
    world.producer = herder
    world.plot = create_plot(actor=world.operator, producer=herder, name="北坡", area_mu="5", crop="小米")
    world.batch = world.new_batch()
    millet = world.listed_product(name="河东小米")
    from zhunong.testing import build_world

    elsewhere = build_world()
    far = elsewhere.listed_product(name="远方的蓝莓")

    county = text(client.get(f"/regions/{world.county.code}/"))
    assert "胶州市" in county and "洋河镇" in county  # the region and its child
    assert "洋河蓝莓" in county and "河东小米" in county and "远方的蓝莓" not in county
    assert "鲁家蓝莓园" in county and "洋河蓝莓专业合作社" in county and "河东家庭农场" in county

    village = client.get(f"/regions/{other_village.code}/")
    page = text(village)
    assert "河东小米" in page and "河东家庭农场" in page
    assert "鲁家蓝莓园" not in page and "洋河蓝莓专业合作社" not in page
    html = village.content.decode()
    # Breadcrumbs up the tree.
    for ancestor in ("province", "city", "county", "township"):
        assert f'href="/regions/{world.regions[ancestor].code}/"' in html
    assert f'href="/p/{millet.pk}/"' in html
    assert f'href="/p/{blueberry.pk}/"' not in html and f'href="/p/{far.pk}/"' not in html
    assert PHONE not in html and ACCOUNT not in html


def test_region_page_never_leaks_payee_or_phone(client, world, coop):
    world.listed_product()
    html = client.get(f"/regions/{world.county.code}/").content.decode()
    assert ACCOUNT not in html and PHONE not in html and "6222020200001234" not in html


def test_region_without_products_says_so(client, world):
    page = text(client.get(f"/regions/{world.village.code}/"))
    assert "这个地区目前没有在售商品" in page


@pytest.mark.parametrize("code", ["nope", "X" * 21, "%00", "a%00b", "%1b", "..", "a b"])
def test_unknown_region_codes_are_404(client, db, code):
    assert client.get(f"/regions/{code}/").status_code == 404


def test_producer_page_in_english(client, world, coop):
    page = text(client.get(f"/producers/{coop.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Cooperative" in page and "Phone" in page and "Products on sale" in page
