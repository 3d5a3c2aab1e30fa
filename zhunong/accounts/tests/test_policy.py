"""The permission policy: the documented table is the policy's table, and each action behaves so on
real objects built through the services (a live stream, an order, a product ...)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhunong.accounts import policy, roles
from zhunong.core.errors import DomainError, PermissionDenied
from zhunong.orders.services import create_order
from zhunong.producers.models import Producer
from zhunong.testing import build_world, make_user, unique

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"
COLUMNS = {"platform admin": roles.PLATFORM_ADMIN, "county operator": roles.COUNTY_OPERATOR,
           "regulator": roles.REGULATOR, "producer manager": roles.PRODUCER_MANAGER, "host": roles.HOST,
           "buyer": roles.BUYER, "discipline inspector": roles.DISCIPLINE_INSPECTOR}


def documented_table() -> dict[str, dict[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Permissions\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header[0] == "action" and set(header[1:]) == set(COLUMNS)
    assert re.fullmatch(r"\|(-+\|)+", rows[1].replace(" ", ""))
    table = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        table[cells[0]] = {COLUMNS[name]: cell for name, cell in zip(header[1:], cells[1:], strict=True)}
    return table


def test_documented_actions_are_the_policy_actions() -> None:
    assert list(documented_table()) == list(policy.ACTIONS)


@pytest.mark.parametrize("action", policy.ACTIONS)
def test_documented_row_is_the_policy_row(action: str) -> None:
    assert documented_table()[action] == policy.table()[action]


def test_every_cell_is_a_known_scope_kind() -> None:
    for row in policy.RULES.values():
        assert set(row) <= set(roles.ALL_ROLES)
        assert set(row.values()) <= set(policy.SCOPE_KINDS)


# ------------------------------------------------------------------------------------------ behaviour

USERS = ["admin", "superuser", "operator", "other_operator", "regulator", "other_regulator", "manager",
         "coop_manager", "host", "buyer", "anonymous", "inactive_operator", "discipline", "other_discipline"]
ADMINS = {"admin", "superuser"}
STAFF = ADMINS | {"operator", "other_operator", "regulator", "other_regulator", "manager", "coop_manager",
                  "discipline", "other_discipline"}

# Who is allowed each action on an object of "our" county (what the predicates it replaces allowed).
EXPECTED = {
    "backoffice.view": STAFF,
    "region.rename": ADMINS,
    "producer.register": ADMINS | {"operator"},
    "producer.change": ADMINS | {"operator", "manager"},
    "producer.view_sales": ADMINS | {"operator", "regulator", "manager", "coop_manager"},
    "trace.record_chain": ADMINS | {"operator", "manager"},
    "inspection.record": ADMINS | {"regulator"},
    "inspection.view": ADMINS | {"operator", "regulator", "manager"},
    "product.manage": ADMINS | {"operator"},
    "product.photos": ADMINS | {"operator", "manager"},
    "product.delist": ADMINS | {"operator", "regulator"},
    "order.sell": ADMINS | {"operator", "manager"},
    "order.oversee": ADMINS | {"operator"},
    "order.view": ADMINS | {"operator", "regulator", "manager", "buyer", "discipline"},
    "shipment.handle": ADMINS | {"operator", "manager", "coop_manager"},
    "shipment.oversee": ADMINS | {"operator"},
    "complaint.view": ADMINS | {"operator", "regulator"},
    "complaint.handle": ADMINS | {"operator"},
    "review.hide": ADMINS | {"operator"},
    "pledge.make": ADMINS | {"operator", "host"},
    "pledge_claim.view": ADMINS | {"operator", "regulator"},
    "pledge_claim.decide": ADMINS | {"operator"},
    "channel.manage": ADMINS | {"operator"},
    "stream.moderate": ADMINS | {"operator", "host"},
    "stream.audit": ADMINS | {"operator", "regulator", "host", "discipline"},
    "live.operate": ADMINS | {"operator", "other_operator"},
    "sensitive_words.edit": ADMINS | {"operator", "other_operator"},
    # The discipline-inspection office of the county alone: not the platform, not the county's operators.
    "stream.approve": {"discipline"},
    "integrity.view": ADMINS | {"regulator", "discipline"},
    "integrity.review": {"discipline"},
    "insights.view": ADMINS | {"operator", "regulator"},
    "insights.import": ADMINS | {"operator"},
    "audit.view": ADMINS | {"discipline"},
}


def test_every_action_has_a_behaviour_row() -> None:
    assert set(EXPECTED) == set(policy.ACTIONS)


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    other = build_world()
    users = {
        "admin": make_user(roles.PLATFORM_ADMIN),  # the role alone
        "superuser": make_user(roles.BUYER),
        "operator": world.operator,
        "other_operator": other.operator,
        "regulator": world.regulator,
        "other_regulator": other.regulator,
        "manager": make_user(roles.PRODUCER_MANAGER),
        "coop_manager": make_user(roles.PRODUCER_MANAGER),
        "host": None,  # the stream's host, below
        "buyer": make_user(roles.BUYER),
        "anonymous": None,
        "inactive_operator": make_user(roles.COUNTY_OPERATOR, region=world.county),
        "discipline": make_user(roles.DISCIPLINE_INSPECTOR, region=world.county),
        "other_discipline": make_user(roles.DISCIPLINE_INSPECTOR, region=other.county),
    }
    users["superuser"].is_superuser = True
    users["superuser"].save(update_fields=["is_superuser"])
    users["inactive_operator"].is_active = False
    users["inactive_operator"].save(update_fields=["is_active"])
    world.producer.managers.add(users["manager"])
    coop = Producer.objects.create(name="洋河蓝莓合作社", kind=Producer.Kind.COOPERATIVE, village=world.village)
    coop.members.add(world.producer)
    coop.managers.add(users["coop_manager"])
    product = world.listed_product()
    room = world.live_room(products=[product])
    users["host"] = room.host_user
    stream = room.stream
    order = create_order(buyer=users["buyer"], lines=[{"product_id": product.pk, "quantity": 1}],
                         idempotency_key=unique("policy-"))
    objects = {
        "backoffice.view": None,
        "region.rename": world.village,
        "producer.register": world.village,
        "producer.change": world.plot,
        "producer.view_sales": world.producer,
        "trace.record_chain": world.batch,
        "inspection.record": world.batch,
        "inspection.view": world.inspect(),
        "product.manage": world.draft_product(),
        "product.photos": world.draft_product(),
        "product.delist": world.draft_product(),
        "order.sell": order,
        "order.oversee": order,
        "order.view": order,
        "shipment.handle": world.producer,
        "shipment.oversee": world.producer,
        "complaint.view": world.county,
        "complaint.handle": world.county,
        "review.hide": world.producer,
        "pledge.make": stream,
        "pledge_claim.view": stream,
        "pledge_claim.decide": stream,
        "channel.manage": world.county,
        "stream.moderate": stream,
        "stream.audit": stream,
        "live.operate": None,
        "sensitive_words.edit": None,
        "stream.approve": stream,
        "integrity.view": world.county,
        "integrity.review": world.county,
        "insights.view": world.county,
        "insights.import": world.county,
        "audit.view": world.county,
    }
    return {"users": users, "objects": objects, "world": world, "other": other}


@pytest.mark.django_db
@pytest.mark.parametrize("action", policy.ACTIONS)
def test_who_may(scene, action: str) -> None:  # noqa: ANN001
    obj = scene["objects"][action]
    allowed = {key for key in USERS if policy.can(scene["users"][key], action, obj)}
    assert allowed == EXPECTED[action]


@pytest.mark.django_db
def test_producer_change_on_every_record_of_the_producer(scene) -> None:  # noqa: ANN001
    world, users = scene["world"], scene["users"]
    for obj in (world.producer, world.plot, world.batch):
        assert policy.can(users["manager"], "producer.change", obj)
        assert not policy.can(users["other_operator"], "producer.change", obj)


@pytest.mark.django_db
def test_an_order_needs_every_line_covered(scene) -> None:  # noqa: ANN001
    world, other, users = scene["world"], scene["other"], scene["users"]
    two_counties = policy.Scope(regions=(world.county, other.county), producer_ids=(world.producer.pk, other.producer.pk))
    assert not policy.can(users["operator"], "order.sell", two_counties)
    assert not policy.can(users["manager"], "order.sell", two_counties)
    assert not policy.can(users["regulator"], "order.view", two_counties)
    assert policy.can(users["admin"], "order.sell", two_counties)
    other.producer.managers.add(users["manager"])
    assert policy.can(users["manager"], "order.sell", two_counties)
    assert not policy.can(users["operator"], "order.sell", policy.Scope())  # an order without lines


@pytest.mark.django_db
def test_staff_without_a_region_cover_nothing(world) -> None:  # noqa: ANN001
    operator = make_user(roles.COUNTY_OPERATOR)
    assert policy.can(operator, "product.manage")
    assert not policy.can(operator, "product.manage", world.county)


@pytest.mark.django_db
def test_without_an_object_relation_grants_do_not_count(scene) -> None:  # noqa: ANN001
    users = scene["users"]
    assert not policy.can(users["host"], "stream.moderate")
    assert policy.can(users["operator"], "stream.moderate")
    assert not policy.can(users["buyer"], "order.view")


@pytest.mark.django_db
def test_require_raises_the_callers_errors(scene) -> None:  # noqa: ANN001
    world, users = scene["world"], scene["users"]

    class Outside(DomainError):
        code = "outside_region"

    policy.require(users["operator"], "producer.register", world.village, outside=Outside)
    with pytest.raises(Outside):
        policy.require(users["other_operator"], "producer.register", world.village, outside=Outside)
    with pytest.raises(PermissionDenied) as refused:
        policy.require(users["buyer"], "producer.register", world.village, outside=Outside)
    assert refused.value.code == "permission_denied"
    with pytest.raises(PermissionDenied) as refused:
        policy.require(users["buyer"], "producer.register", world.village,
                       error=PermissionDenied("Only county operators register producers.", code="x"))
    assert refused.value.code == "x"
    with pytest.raises(PermissionDenied):
        policy.require(None, "backoffice.view")


@pytest.mark.django_db
def test_a_scope_reads_only_what_a_rule_needs(scene, django_assert_num_queries) -> None:  # noqa: ANN001
    users = scene["users"]
    calls = []
    lazy = policy.Scope(regions=lambda: calls.append("regions") or (), producer_ids=lambda: calls.append("p") or ())
    users["admin"].has_role(roles.PLATFORM_ADMIN)  # warm the role cache
    with django_assert_num_queries(0):
        assert policy.can(users["admin"], "producer.change", lazy)
    assert calls == []


def test_an_unknown_action_is_an_error() -> None:
    with pytest.raises(KeyError):
        policy.can(None, "producer.chnage")
