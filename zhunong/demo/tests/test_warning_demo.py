"""After `seed_demo` the main county's operator sees an unsold-produce warning computed from the seed's data."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from zhunong.demo import world as demo
from zhunong.insights import warnings
from zhunong.insights.models import DemandForecast
from zhunong.producers.models import HarvestBatch, Region

pytestmark = pytest.mark.django_db


def test_the_main_county_has_an_over_stocked_batch_with_its_warning():
    call_command("seed_demo", stdout=io.StringIO())
    county = Region.objects.get(code=demo.MAIN_COUNTY_CODE)
    batch = HarvestBatch.objects.get(lot_number="AH-LR-01")
    # The warning rests on a real forecast of the batch's product (from the imported sales history).
    [product] = batch.products.all()
    assert DemandForecast.objects.filter(product=product).exists()
    found = {w.batch.lot_number: w for w in warnings.batch_warnings(county=county)}
    warning = found["AH-LR-01"]
    assert warning.unsold > warning.demand > 0 and warning.days_left <= warnings.WARN_WITHIN_DAYS
    assert warning.actions
