import pytest

from zhunong.catalog.selectors import search_products
from zhunong.producers.services import create_plot, create_producer

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(world):
    blueberry = world.listed_product(name="洋河蓝莓", price="39.90", cost_floor="20.00")
    unlisted = world.draft_product(name="蓝莓果酱")
    # The yak jerky comes from a herder, so its search text shares nothing with the blueberry farm.
    world.producer = create_producer(actor=world.operator, name="才让家庭牧场", village=world.village)
    world.plot = create_plot(actor=world.operator, producer=world.producer, name="夏季草场", area_mu="300",
                             crop="牦牛")
    world.batch = world.new_batch(unit="head", quantity="20")
    yak = world.listed_product(name="青海牦牛肉干", price="88.00", cost_floor="50.00")
    return {"yak": yak, "blueberry": blueberry, "unlisted": unlisted}


@pytest.mark.parametrize(("query", "expected"), [
    ("蓝莓", {"blueberry"}),
    ("藍莓", {"blueberry"}),
    ("犛牛肉乾", {"yak"}),
    ("牦牛", {"yak"}),
    ("胶州 蓝莓", {"blueberry"}),
    ("苹果", set()),
])
def test_search_finds_listed_products_in_simplified_and_traditional(products, query, expected):
    found = {name for name, p in products.items() if p in set(search_products(query))}
    assert found == expected


def test_unlisted_products_are_never_found(products):
    assert products["unlisted"] not in set(search_products("果酱"))


def test_punctuation_only_query_finds_nothing(products):
    assert list(search_products("！！！")) == []
