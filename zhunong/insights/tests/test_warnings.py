"""Unsold-produce warnings per harvest batch, their suggested actions, the include and page, season plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhunong.insights import forecasting, warnings
from zhunong.insights.models import DemandForecast
from zhunong.producers import services as producers
from zhunong.producers.models import Producer
from zhunong.testing import build_world
from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401 - autouse, as in orders

from .centre_helpers import import_sales

pytestmark = pytest.mark.django_db


def flat_forecast(product, per_day: float, days: int = 28) -> DemandForecast:  # noqa: ANN001
    today = timezone.localdate()
    points = [{"date": (today + dt.timedelta(days=i)).isoformat(), "mean": per_day, "lo": 0.0, "hi": per_day * 2}
              for i in range(days)]
    forecast, _ = DemandForecast.objects.update_or_create(product=product, defaults={
        "model_name": "test", "start": today, "points": points})
    return forecast


@pytest.fixture
def berries(world):  # noqa: ANN001, ANN201
    """500 斤 of blueberries with 10 days left, sold by the 斤."""
    batch = world.new_batch(quantity="500", unit="jin", shelf_life_days=13,
                            harvested_on=timezone.localdate() - dt.timedelta(days=3))
    product = world.listed_product(name="洋河蓝莓", price="40.00", cost_floor="30.00", batches=[batch], unit="jin")
    return world, batch, product


def test_an_over_stocked_batch_warns_with_actions(berries) -> None:  # noqa: ANN001
    world, batch, product = berries
    flat_forecast(product, 10)  # 100 斤 in the 10 days left
    [warning] = [w for w in warnings.batch_warnings(county=world.county) if w.batch == batch]
    assert (warning.stock, warning.demand, warning.unsold, warning.days_left) == (500, 100, 400, 10)
    assert warning.severity == "high" and warning.unsold_percent == 80
    kinds = [a.kind for a in warning.actions]
    assert kinds == ["stream", "flash_sale", "price"]
    price = next(a.text for a in warning.actions if a.kind == "price")
    assert "30.00元" in price and "成本底价" in price  # the cut stops at the cost floor


def test_a_batch_demand_will_clear_does_not_warn(berries) -> None:  # noqa: ANN001
    world, batch, product = berries
    flat_forecast(product, 60)
    assert not [w for w in warnings.batch_warnings(county=world.county) if w.batch == batch]


def test_sales_since_harvest_reduce_the_stock_oldest_batch_first(berries) -> None:  # noqa: ANN001
    world, batch, product = berries
    newer = world.new_batch(quantity="300", unit="jin", shelf_life_days=12,
                            harvested_on=timezone.localdate() - dt.timedelta(days=1))
    product.batches.add(newer)
    import_sales(world.county, product, [100, 100, 150])  # 350 斤 over the last three days
    flat_forecast(product, 10)
    found = {w.batch: w for w in warnings.batch_warnings(county=world.county)}
    # The older batch sold 350 of its 500 斤; its 150 left take the first 100 斤 of demand, the newer batch the rest.
    assert found[batch].stock == 150 and found[batch].demand == 100
    assert found[newer].stock == 300 and found[newer].demand == pytest.approx(10)


def test_product_units_are_converted_to_the_batch_unit(world) -> None:  # noqa: ANN001
    batch = world.new_batch(quantity="100", unit="kg", shelf_life_days=8)
    product = world.listed_product(name="蓝莓 125克×4盒", unit="box", unit_size="125克×4盒", batches=[batch])
    assert warnings.weight_in_jin(product) == Decimal("1.000")
    assert warnings.product_units_to_batch(product, batch, 10) == pytest.approx(5)  # ten 1-斤 boxes are 5 kg
    flat_forecast(product, 4)  # 4 boxes = 2 kg a day, 5 days left: 10 kg of 100
    [warning] = warnings.batch_warnings(county=world.county)
    assert (warning.stock, warning.demand, warning.unsold) == (100, 10, 90)


def test_far_off_expiry_and_expired_batches_do_not_warn(world) -> None:  # noqa: ANN001
    long = world.new_batch(quantity="900", shelf_life_days=365)
    gone = world.new_batch(quantity="900", shelf_life_days=2, harvested_on=timezone.localdate() - dt.timedelta(days=5))
    world.listed_product(name="茶", batches=[long, gone])
    assert warnings.batch_warnings(county=world.county) == []


def test_warnings_stay_in_their_county(berries) -> None:  # noqa: ANN001
    world, _batch, product = berries
    flat_forecast(product, 1)
    assert warnings.batch_warnings(county=build_world().county) == []


def test_the_include_and_the_page(berries) -> None:  # noqa: ANN001
    world, _batch, product = berries
    flat_forecast(product, 10)
    html = Template('{% include "insights/_warnings.html" %}').render(Context({"region": world.county}))
    assert "洋河蓝莓" in html and "400.0斤" in html and "排直播" in html
    client = Client()
    client.force_login(world.operator)
    page = client.get(reverse("insights:warnings"))
    assert page.status_code == 200 and "滞销预警" in page.content.decode() and "建议" in page.content.decode()
    home = client.get(reverse("insights:home"))
    assert home.status_code == 200 and "400.0斤" in home.content.decode()  # the county home includes it
    outsider = Client()
    outsider.force_login(build_world().operator)
    assert "洋河蓝莓" not in outsider.get(reverse("insights:warnings")).content.decode()


def test_season_plan_of_a_cooperative(world) -> None:  # noqa: ANN001
    coop = producers.create_producer(actor=world.operator, name="蓝莓合作社", village=world.village,
                                     kind=Producer.Kind.COOPERATIVE)
    coop.members.add(world.producer)
    batch = world.new_batch(quantity="300", unit="jin", shelf_life_days=10)
    product = world.listed_product(name="合作社蓝莓", unit="jin", batches=[batch])
    import_sales(world.county, product, [5] * 60)
    forecasting.run_forecasts(county=world.county, workers=1)
    plan = warnings.season_plan(coop, season_days=90)
    [row] = [r for r in plan.rows if r.product == product]
    assert row.harvested_last_season == 300
    assert row.forecast_next_season == pytest.approx(450, rel=0.2)  # about 5 斤 a day
    assert row.suggestion == "expand" and row.suggested_quantity == pytest.approx(row.forecast_next_season * 1.1, rel=0.01)
    client = Client()
    client.force_login(world.operator)
    body = client.get(reverse("insights:plans")).content.decode()
    assert "蓝莓合作社" in body and "扩大" in body
