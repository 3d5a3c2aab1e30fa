"""`zhunong seed_demo`: idempotent, --dry-run writes nothing, and the demo world obeys the platform's rules."""

from __future__ import annotations

import io
import types

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.catalog.selectors import listed_products, search_products
from zhunong.demo import world as demo
from zhunong.live.models import Channel, Host
from zhunong.producers.models import HarvestBatch, Producer, Region
from zhunong.quality.models import Inspection, TraceEvent

pytestmark = pytest.mark.django_db

MODELS = [User, Region, Producer, HarvestBatch, Product, Inspection, TraceEvent, Channel, Host]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def test_second_run_changes_nothing_and_says_so():
    first = run()
    assert "Created:" in first
    after_first = counts()
    assert after_first["Product"] >= 10 and after_first["Host"] >= 4
    second = run()
    assert "nothing changed" in second
    assert "Created:" not in second
    assert counts() == after_first
    # The logins are printed every time.
    assert "operator" in second and demo.PASSWORD in second


def test_dry_run_reports_and_writes_nothing():
    before = counts()
    out = run("--dry-run")
    assert "Would create:" in out and "products" in out
    assert "nothing was written" in out
    assert counts() == before


def test_demo_world():
    run()
    # One failed inspection, and its product stays unlisted.
    failed = Inspection.objects.filter(result=Inspection.Result.FAIL)
    assert failed.count() == 1
    failed_products = Product.objects.filter(batches=failed.get().batch)
    assert failed_products.exists()
    for product in failed_products:
        assert product.status != ListingStatus.LISTED
        assert product not in listed_products()
    # Nothing is listed without a passed inspection of each batch it sells from.
    for product in listed_products():
        for batch in product.batches.all():
            assert batch.inspections.order_by("-sampled_on", "-id").first().passed
    # The main county has a product awaiting inspection for the inspector login to inspect.
    inspector = User.objects.get(username="inspector")
    assert Product.objects.filter(status=ListingStatus.AWAITING_INSPECTION,
                                  origin__path__startswith=inspector.region.path).exists()

    # Traditional-Chinese queries find the simplified demo products.
    assert any("蓝莓" in p.name for p in search_products("藍莓"))
    assert any("牦牛肉干" in p.name for p in search_products("犛牛肉乾"))
    assert any("木耳" in p.name for p in search_products("柞水木耳"))
    assert any("千两茶" in p.name for p in search_products("千兩茶"))
    assert any("小米" in p.name for p in search_products("敖漢小米"))

    # Regions form one proper tree: every non-province has a parent one level up.
    for region in Region.objects.exclude(level="province"):
        assert Region.LEVEL_ORDER.index(region.parent.level) == Region.LEVEL_ORDER.index(region.level) - 1
    # Several registered poverty households; all three producer kinds.
    assert Producer.objects.filter(registered_poor=True, kind=Producer.Kind.HOUSEHOLD).count() >= 3
    assert set(Producer.objects.values_list("kind", flat=True)) == set(Producer.Kind.values)
    # Processing and packing are in the chain.
    assert TraceEvent.objects.filter(event_type=TraceEvent.EventType.TRANSFORMATION).exists()
    assert TraceEvent.objects.filter(event_type=TraceEvent.EventType.AGGREGATION).exists()

    # One official channel per county; hosts by role, public servants flagged, all verified.
    counties = Region.objects.filter(level="county")
    assert Channel.objects.count() == counties.count()
    kinds = set(Host.objects.values_list("kind", flat=True))
    assert {"county_head", "township_official", "first_secretary", "villager"} <= kinds
    for host in Host.objects.all():
        assert host.is_verified and host.verified_by.has_role(roles.COUNTY_OPERATOR)
        assert host.is_public_servant == (host.kind in Host.PUBLIC_SERVANT_KINDS)


def test_every_demo_order_ships_somewhere():
    # Issue 15's dead end: a seeded paid order without an address asked the producer to ship it.
    from zhunong.orders.models import Order

    run()
    orders = Order.objects.all()
    assert orders.exists()
    assert not orders.filter(ship_to_address="").exists()
    assert not orders.filter(ship_to_phone="").exists()


def test_logins_work_with_their_roles():
    run()
    expected = {"admin": roles.PLATFORM_ADMIN, "operator": roles.COUNTY_OPERATOR, "inspector": roles.REGULATOR,
                "coop": roles.PRODUCER_MANAGER, "host": roles.HOST, "buyer": roles.BUYER}
    for username, role in expected.items():
        user = authenticate(username=username, password=demo.PASSWORD)
        assert user is not None, username
        assert user.has_role(role), username
    assert User.objects.get(username="admin").is_superuser
    operator = User.objects.get(username="operator")
    assert operator.region.code == demo.MAIN_COUNTY_CODE and operator.region.level == "county"
    assert User.objects.get(username="coop").managed_producers.filter(kind=Producer.Kind.COOPERATIVE).exists()
    host = Host.objects.get(user__username="host")
    assert host.kind == Host.Kind.FIRST_SECRETARY and host.is_public_servant and host.is_verified


def test_seeders_are_called_in_order_with_dry_run(monkeypatch):
    from zhunong.demo.management.commands import seed_demo

    calls = []
    names = ["zhunong.demo.live", "zhunong.demo.video", "zhunong.demo.orders", "zhunong.demo.fulfilment",
             "zhunong.demo.forecasts", "zhunong.demo.income", "zhunong.demo.casework"]
    assert [module.__name__ for module in seed_demo.SEEDERS] == names
    fakes = [types.SimpleNamespace(seed=lambda *, stdout, dry_run, _name=name: calls.append((_name, dry_run)))
             for name in names]
    monkeypatch.setattr(seed_demo, "SEEDERS", fakes)
    run("--dry-run")
    assert calls == [(name, True) for name in names]
