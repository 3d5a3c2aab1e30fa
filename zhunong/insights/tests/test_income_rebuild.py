"""`zhunong insights-rebuild`: the rollups come back from the ledger; --dry-run writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from zhunong.insights.models import IncomeDay, SalesDay
from zhunong.insights.tests.test_income import Coop

pytestmark = pytest.mark.django_db


def test_rebuild_restores_lost_rollups_and_reconciles(world):
    coop = Coop(world)
    coop.fixed_shares("1", "2", "3")
    coop.paid((coop.coop_product, 2), (coop.own, 1))
    before = sorted(IncomeDay.objects.values_list("recipient_id", "amount_fen"))
    IncomeDay.objects.all().delete()
    SalesDay.objects.all().delete()
    out = StringIO()
    call_command("insights_rebuild", "--dry-run", stdout=out)
    assert "difference 0.00" in out.getvalue() and "Dry run" in out.getvalue()
    assert not IncomeDay.objects.exists()
    call_command("insights_rebuild", stdout=out)
    assert sorted(IncomeDay.objects.values_list("recipient_id", "amount_fen")) == before


def test_rebuild_refuses_a_bad_date():
    with pytest.raises(CommandError):
        call_command("insights_rebuild", "--since", "yesterday")
