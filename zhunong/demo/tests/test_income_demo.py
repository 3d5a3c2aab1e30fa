"""The demo county's co-op reaches its member households in the data centre (zhunong.demo.income)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.demo import income as demo_income
from zhunong.demo import live
from zhunong.demo import world as demo
from zhunong.insights import income
from zhunong.producers.models import Membership, Region, ShareScheme

pytestmark = pytest.mark.django_db


def test_demo_co_op_members_get_income_and_a_second_run_adds_nothing():
    demo.seed()
    out = io.StringIO()
    live.seed(stdout=out, dry_run=False)
    created = demo_income.seed(stdout=out, dry_run=False)
    assert created["members"] == 3 and created["deliveries"] == 3 and created["orders"] >= 40
    assert ShareScheme.objects.get().basis == "quantity"
    operator = User.objects.get(username="operator")
    county = Region.objects.get(code="430923")
    today = timezone.localdate()
    span = {"start": today - dt.timedelta(days=40), "end": today}
    summary = income.summary(operator, **span, region=county)
    # 彭家 and 谌家 through the co-op; 刘家柴火腊肉 (registered poor) sells its smoked pork on the stream's shelf.
    assert summary.poor > 0 and summary.poor_reached == 3 and summary.via_coops > 0
    assert income.reconcile(**span)["difference"] == 0
    # Deliveries 1200 : 900 : 450 jin divide the co-op's sales.
    rows = {r["name"]: r["via_coops"] for r in income.households(operator, **span, region=county)}
    assert rows["彭家茶园"] > rows["谌家茶园"] > rows["龚家茶园"] > 0
    again = demo_income.seed(stdout=out, dry_run=False)
    assert not again and Membership.objects.count() == 3


def test_dry_run_writes_nothing():
    demo.seed()
    out = io.StringIO()
    demo_income.seed(stdout=out, dry_run=True)
    assert "would record" in out.getvalue() and not Membership.objects.exists()
