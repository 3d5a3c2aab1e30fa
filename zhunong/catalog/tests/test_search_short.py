"""One-character queries (米, 茶, 紅) and the two-character queries next to them.

Products come from the seed reports: 洋河 blueberries, 雪多 yak jerky, 普安 black tea, 丰城 selenium
rice, 敖汉 millet, 仲坪村 kimchi, 镇平 koi sold by length (15-20厘米) and 柞水 wood-ear fungus from
金米村. The sweet corn is not in the reports; it is the distractor a query for 米 must not find.
"""

from __future__ import annotations

import re

import pytest

from zhunong.catalog.selectors import search_products, search_ranked
from zhunong.producers.services import create_plot, create_producer

pytestmark = pytest.mark.django_db


def sell(world, *, producer: str, crop: str, name: str, description: str = ""):  # noqa: ANN001, ANN201
    """A listed product from its own producer, so no two products share producer words."""
    world.producer = create_producer(actor=world.operator, name=producer, village=world.village)
    world.plot = create_plot(actor=world.operator, producer=world.producer, name="一号地", area_mu="10", crop=crop)
    world.batch = world.new_batch()
    return world.listed_product(name=name, description=description)


@pytest.fixture
def shelf(world):
    return {
        "blueberry": world.listed_product(name="洋河蓝莓 125克×4盒", description="现摘的大棚蓝莓，口感脆甜。"),
        "yak": sell(world, producer="雪多牦牛生态畜牧业合作社", crop="牦牛", name="雪多牦牛肉干 500克",
                    description="要想身体好又瘦，常吃雪多牦牛肉。"),
        "tea": sell(world, producer="普安县茶农合作社", crop="茶叶", name="普安红茶 250克"),
        "rice": sell(world, producer="丰城市富硒稻米专业合作社", crop="水稻", name="丰城富硒大米 5千克"),
        "millet": sell(world, producer="敖汉旗谷子种植合作社", crop="谷子", name="敖汉小米 2.5千克",
                       description="原生态旱作小米。"),
        "kimchi": sell(world, producer="仲坪村朝鲜族泡菜合作社", crop="白菜", name="仲坪村朝鲜族辣白菜 2千克",
                       description="当地的大米和辣白菜都冠以“金大个子”之名。"),
        "koi": sell(world, producer="向寨村锦鲤养殖户联合社", crop="锦鲤", name="镇平锦鲤 红白 15-20厘米"),
        "wood_ear": sell(world, producer="金米村木耳产业合作社", crop="木耳", name="柞水木耳 250克"),
        "corn": sell(world, producer="大北山村种植户", crop="玉米", name="东北甜玉米 10穗"),
    }


def found(shelf, query: str) -> set[str]:  # noqa: ANN001
    hits = set(search_products(query))
    return {key for key, product in shelf.items() if product in hits}


def ranked(shelf, query: str) -> list[str]:  # noqa: ANN001
    by_pk = {product.pk: key for key, product in shelf.items()}
    return [by_pk[p.pk] for p in search_ranked(query)]


def test_one_character_query_finds_rice_and_millet_but_not_corn_or_centimetres(shelf):
    assert found(shelf, "米") == {"rice", "millet", "kimchi", "wood_ear"}


def test_one_character_query_ranks_head_nouns_in_the_name_first(shelf):
    # rice and millet by name; the kimchi's description sells it with 大米; the wood-ear only comes
    # from 金米村, where 米 is inside a place name.
    assert ranked(shelf, "米") == ["rice", "millet", "kimchi", "wood_ear"]


def test_featured_products_lead_within_their_rank(shelf):
    shelf["millet"].featured = True
    shelf["millet"].save(update_fields=["featured"])
    shelf["wood_ear"].featured = True
    shelf["wood_ear"].save(update_fields=["featured"])
    assert ranked(shelf, "米") == ["millet", "rice", "kimchi", "wood_ear"]


@pytest.mark.parametrize(("query", "expected"), [
    ("茶", ["tea"]),
    ("莓", ["blueberry"]),
    ("牛", ["yak"]),
    ("肉", ["yak"]),
    ("鲤", ["koi"]),
    ("耳", ["wood_ear"]),
    ("米！", ["rice", "millet", "kimchi", "wood_ear"]),
])
def test_one_character_queries_find_what_the_character_heads(shelf, query, expected):
    assert ranked(shelf, query) == expected


def test_traditional_single_character_is_simplified_and_still_finds_substrings(shelf):
    # 红 heads no word here (红茶 is tea, 红白 a colour), so both come from the name, as before.
    assert ranked(shelf, "紅") == ["tea", "koi"]
    assert ranked(shelf, "红") == ["tea", "koi"]


@pytest.mark.parametrize(("query", "expected"), [
    ("红茶", {"tea"}),
    ("紅茶", {"tea"}),
    ("大米", {"rice", "kimchi"}),
    ("小米", {"millet"}),
    ("玉米", {"corn"}),
    ("厘米", {"koi"}),
    ("蓝莓", {"blueberry"}),
    ("藍莓", {"blueberry"}),
    ("牦牛", {"yak"}),
    ("牦牛肉干", {"yak"}),
    ("犛牛肉乾", {"yak"}),
    ("木耳", {"wood_ear"}),
    ("金米村", {"wood_ear"}),
    ("敖汉 小米", {"millet"}),
    ("苹果", set()),
])
def test_longer_queries_are_unchanged(shelf, query, expected):
    assert found(shelf, query) == expected


def test_a_lone_character_beside_other_words_skips_false_heads_too(shelf):
    assert found(shelf, "东北 米") == set()
    assert found(shelf, "东北 玉米") == {"corn"}


def test_name_matches_still_lead_for_two_character_queries(shelf):
    assert ranked(shelf, "大米") == ["rice", "kimchi"]


def test_search_page_for_one_character(client, shelf):
    response = client.get("/search/", {"q": "米"})
    assert response.status_code == 200
    html = response.content.decode()
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "找到 4 件商品" in page
    assert page.index("丰城富硒大米") < page.index("敖汉小米") < page.index("仲坪村朝鲜族辣白菜") < page.index("柞水木耳")
    assert "东北甜玉米" not in page and "镇平锦鲤" not in page
