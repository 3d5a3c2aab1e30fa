"""Lower apps report concerns through core.integrity; supervision records them in the same transaction."""

import datetime as dt

import pytest
from django.db import transaction

from zhunong.core.integrity import ConcernKind, report_concern
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user


@pytest.mark.django_db
def test_a_reported_concern_becomes_an_open_flag(world):
    report_concern(kind=ConcernKind.BELOW_COST, summary="低于成本", subject=world.producer,
                   region=world.county, details={"price": "1.00"})
    flag = IntegrityFlag.objects.get()
    assert (flag.kind, flag.status, flag.region, flag.subject) == (
        "below_cost", IntegrityFlag.Status.OPEN, world.county, world.producer)
    assert flag.details == {"price": "1.00"}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_no_flag(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        report_concern(kind=ConcernKind.QUOTA, summary="摊派", subject=world.producer)
        raise RuntimeError("the reporting write fails")
    assert not IntegrityFlag.objects.exists()


@pytest.mark.django_db
def test_once_within_collapses_repeats_about_one_subject(world):
    buyer, other = make_user(), make_user()
    for subject in (buyer, buyer, other):
        report_concern(kind=ConcernKind.FAKE_ORDER, summary="刷单", subject=subject,
                       once_within=dt.timedelta(hours=24))
    assert IntegrityFlag.objects.filter(kind="fake_order").count() == 2


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown integrity concern"):
        report_concern(kind="bribery", summary="?")
