"""Who may do what to which object: the platform's permission rules, in one table.

Roles (accounts.roles) say what kind of user someone is; this module says, per action, which roles
grant it and over which objects. Services, views, the API and the admin all ask here, so "platform
admin, or the county operator over this region, or the producer's manager" is written once.

How an object tells the policy where it sits: accounts is the layer just above core, so it cannot
import producers, catalog, live or orders. Instead every object that permissions are checked on
has a method ``policy_scope() -> Scope`` (a Region returns itself, a Producer its village and its
id, an Order every line's product origin and producer plus its buyer, a Stream its channel's county
and its host's user). A caller may also pass a ``Scope`` directly, e.g. for a subset of an order's
lines. We chose a method on the model over a registry filled in ``AppConfig.ready``: the scope
lives next to the fields it is made of, and nothing has to be registered before a check works.

The scope kinds in ``RULES``:

- ``any``: holding the role is enough.
- ``region``: the user's region covers EVERY region of the object (and it has at least one).
- ``managed``: the user manages EVERY producer of the object (and it has at least one).
- ``managed or co-op``: as ``managed``, but managing a co-op the producer belongs to also counts.
- ``own stream`` / ``own order``: the user is the object's host / buyer. These follow the relation,
  not the group: whoever the stream's host or the order's buyer is, whatever their roles.

A platform admin is a superuser or a member of the platform_admin group. Anonymous and inactive
users are never granted anything. ``can(user, action)`` without an object answers "does the user
hold a role that grants this action over some objects" (relation grants do not count there); the
query-side counterpart, which objects exactly, stays in ``accounts.selectors.region_q``/``scope``
and the apps' selectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from zhunong.core.errors import DomainError, PermissionDenied

from . import roles
from .models import User

ANY = "any"
REGION = "region"
MANAGED = "managed"
MANAGED_OR_COOP = "managed or co-op"
OWN_STREAM = "own stream"
OWN_ORDER = "own order"
SCOPE_KINDS = (ANY, REGION, MANAGED, MANAGED_OR_COOP, OWN_STREAM, OWN_ORDER)

# The relation grants: the column they appear under, and which part of the scope they read.
_RELATION_GRANTS = {OWN_STREAM: roles.HOST, OWN_ORDER: roles.BUYER}

_A, _O, _R, _M = roles.PLATFORM_ADMIN, roles.COUNTY_OPERATOR, roles.REGULATOR, roles.PRODUCER_MANAGER
_H, _B = roles.HOST, roles.BUYER
_D = roles.DISCIPLINE_INSPECTOR

# action -> {role: scope kind}. A role not listed is not granted the action. The "Permissions" table
# in docs/architecture.md is this table (accounts/tests/test_policy.py checks that they agree).
RULES: dict[str, dict[str, str]] = {
    # The back office (API /me/backoffice, staff pages) is open to the staff roles.
    "backoffice.view": {_A: ANY, _O: ANY, _R: ANY, _M: ANY, _D: ANY},
    # Regions are the tree every path is built from; only admins rename them.
    "region.rename": {_A: ANY},
    # Register (or move) a producer in a village.
    "producer.register": {_A: ANY, _O: REGION},
    # Change a producer's records: its plots and harvest batches.
    "producer.change": {_A: ANY, _O: REGION, _M: MANAGED},
    # See what a producer sold.
    "producer.view_sales": {_A: ANY, _O: REGION, _R: REGION, _M: MANAGED_OR_COOP},
    # Record processing, packing and shipping events of a batch's trace chain.
    "trace.record_chain": {_A: ANY, _O: REGION, _M: MANAGED},
    # Record a lab inspection of a batch (market regulators sample, not the producer's side).
    "inspection.record": {_A: ANY, _R: REGION},
    "inspection.view": {_A: ANY, _O: REGION, _R: REGION, _M: MANAGED},
    # Create, edit, list and price products of a region.
    "product.manage": {_A: ANY, _O: REGION},
    # Upload, order and remove a product's photos: also the managers of every producer that supplies it.
    "product.photos": {_A: ANY, _O: REGION, _M: MANAGED},
    # Take a product off sale (regulators may, e.g. after a failed inspection).
    "product.delist": {_A: ANY, _O: REGION, _R: REGION},
    # Act for the selling side of an order (or of some of its lines): every line must be covered.
    "order.sell": {_A: ANY, _O: REGION, _M: MANAGED},
    # Act as the platform's staff over an order (e.g. complete it for the buyer).
    "order.oversee": {_A: ANY, _O: REGION},
    "order.view": {_A: ANY, _O: REGION, _R: REGION, _M: MANAGED, _B: OWN_ORDER, _D: REGION},
    # Pack and ship a producer's parcels and decide its after-sales requests.
    "shipment.handle": {_A: ANY, _O: REGION, _M: MANAGED_OR_COOP},
    # Confirm a delivery for the buyer, as the county office.
    "shipment.oversee": {_A: ANY, _O: REGION},
    "complaint.view": {_A: ANY, _O: REGION, _R: REGION},
    "complaint.handle": {_A: ANY, _O: REGION},
    # Hide an abusive review (the rating still counts).
    "review.hide": {_A: ANY, _O: REGION},
    # Make a stream's compensation pledge (its host, or the county office for them).
    "pledge.make": {_A: ANY, _O: REGION, _H: OWN_STREAM},
    # Pledge claims against a stream's pledges: regulators read them, the county office decides.
    "pledge_claim.view": {_A: ANY, _O: REGION, _R: REGION},
    "pledge_claim.decide": {_A: ANY, _O: REGION},
    # A county's channel, its hosts and its streams.
    "channel.manage": {_A: ANY, _O: REGION},
    # Run a stream's room (pins, bans, chat moderation) and see its ingest.
    "stream.moderate": {_A: ANY, _O: REGION, _H: OWN_STREAM},
    # Read a stream's full record (chat incl. blocked, moderation, per-minute series).
    "stream.audit": {_A: ANY, _O: REGION, _R: REGION, _H: OWN_STREAM, _D: REGION},
    # The live operator pages and the ingest monitor.
    "live.operate": {_A: ANY, _O: ANY},
    "sensitive_words.edit": {_A: ANY, _O: ANY},
    # A public servant's stream goes live only with an approval by the county's discipline-inspection office.
    "stream.approve": {_D: REGION},
    # The office's pages (flags, evidence, clean figures, exports): the office and, reading, regulators.
    "integrity.view": {_A: ANY, _R: REGION, _D: REGION},
    # Confirm or dismiss a flag: the office of the flag's region only.
    "integrity.review": {_D: REGION},
    # The data centre (大数据中心): dashboards, household income and their exports over a region. A producer's
    # own board also opens with producer.view_sales, a stream's with stream.audit.
    "insights.view": {_A: ANY, _O: REGION, _R: REGION},
    # Import order exports of other platforms into the data centre (insights.imports): the county's operator.
    "insights.import": {_A: ANY, _O: REGION},
    # The audit log (core.audit): the platform's admins, and the discipline-inspection office over its region.
    "audit.view": {_A: ANY, _D: REGION},
}

ACTIONS = tuple(RULES)


class Scope:
    """Where an object sits, for permission checks.

    regions: Region-like objects (with ``pk`` and ``path``); producer_ids: the producers it belongs to;
    host_user_ids / buyer_user_ids: the users who host it / bought it. Each may be given as a
    zero-argument callable, evaluated only when a rule needs it (so a check that an admin passes
    costs no query).
    """

    __slots__ = ("_values",)

    def __init__(self, *, regions: Iterable[Any] | Callable[[], Iterable[Any]] = (),
                 producer_ids: Iterable[int] | Callable[[], Iterable[int]] = (),
                 host_user_ids: Iterable[int] | Callable[[], Iterable[int]] = (),
                 buyer_user_ids: Iterable[int] | Callable[[], Iterable[int]] = ()) -> None:
        self._values: dict[str, Any] = {"regions": regions, "producer_ids": producer_ids,
                                        "host_user_ids": host_user_ids, "buyer_user_ids": buyer_user_ids}

    def _get(self, name: str) -> tuple:
        value = self._values[name]
        if callable(value):
            value = value()
        if not isinstance(value, tuple):
            value = tuple(value)
            self._values[name] = value
        return value

    @property
    def regions(self) -> tuple:
        return self._get("regions")

    @property
    def producer_ids(self) -> frozenset[int]:
        return frozenset(self._get("producer_ids"))

    @property
    def host_user_ids(self) -> frozenset[int]:
        return frozenset(self._get("host_user_ids"))

    @property
    def buyer_user_ids(self) -> frozenset[int]:
        return frozenset(self._get("buyer_user_ids"))

    def __repr__(self) -> str:
        return f"Scope({self._values!r})"


@runtime_checkable
class HasScope(Protocol):
    def policy_scope(self) -> Scope: ...


# --------------------------------------------------------------------------------- role and scope tests


def _active(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def is_platform_admin(user: User | None) -> bool:
    return bool(_active(user) and (user.is_superuser or user.has_role(roles.PLATFORM_ADMIN)))


def _holds(user: User, role: str) -> bool:
    return is_platform_admin(user) if role == roles.PLATFORM_ADMIN else user.has_role(role)


def covers_region(user: User, region: Any) -> bool:  # noqa: ANN401
    """The user's own region is the object's region or an ancestor of it."""
    return bool(user.region_id and region is not None and region.path.startswith(user.region.path))


def _covers_all(user: User, regions: tuple) -> bool:
    return bool(regions) and all(covers_region(user, region) for region in regions)


def managed_producer_ids(user: User, *, with_coop_members: bool = False) -> set[int]:
    """The producers the user manages (and, if asked, the members of the co-ops they manage)."""
    # Through the user's reverse relation: accounts cannot import producers.
    ids = set(user.managed_producers.values_list("pk", flat=True))
    if with_coop_members and ids:
        ids |= set(user.managed_producers.filter(members__isnull=False).values_list("members", flat=True))
    return ids


def _managed_all(user: User, producer_ids: frozenset[int], *, with_coop_members: bool) -> bool:
    return bool(producer_ids) and producer_ids <= managed_producer_ids(user, with_coop_members=with_coop_members)


def _scope_of(obj: Scope | HasScope) -> Scope:
    return obj if isinstance(obj, Scope) else obj.policy_scope()


def _grants(user: User, kind: str, scope: Scope) -> bool:
    if kind == ANY:
        return True
    if kind == REGION:
        return _covers_all(user, scope.regions)
    if kind == MANAGED:
        return _managed_all(user, scope.producer_ids, with_coop_members=False)
    if kind == MANAGED_OR_COOP:
        return _managed_all(user, scope.producer_ids, with_coop_members=True)
    if kind == OWN_STREAM:
        return user.pk in scope.host_user_ids
    if kind == OWN_ORDER:
        return user.pk in scope.buyer_user_ids
    raise ValueError(f"unknown scope kind {kind!r}")


# Cheap grants are tried before the ones that query.
_COST = {ANY: 0, OWN_STREAM: 1, OWN_ORDER: 1, REGION: 2, MANAGED: 3, MANAGED_OR_COOP: 4}


# --------------------------------------------------------------------------------------------- API


def may_hold(user: User | None, action: str) -> bool:
    """Whether the user holds a role that grants `action` over some objects (no object given)."""
    if not _active(user):
        return False
    return any(kind not in _RELATION_GRANTS and _holds(user, role) for role, kind in RULES[action].items())


def can(user: User | None, action: str, obj: Scope | HasScope | None = None) -> bool:
    """May `user` do `action` to `obj`? Without `obj`: see `may_hold`."""
    rule = RULES[action]  # an unknown action is a programming error, not a refusal
    if obj is None:
        return may_hold(user, action)
    if not _active(user):
        return False
    scope = _scope_of(obj)
    for role, kind in sorted(rule.items(), key=lambda item: _COST[item[1]]):
        if (kind in _RELATION_GRANTS or _holds(user, role)) and _grants(user, kind, scope):
            return True
    return False


def require(user: User | None, action: str, obj: Scope | HasScope | None = None, *,
            error: DomainError | type[DomainError] | None = None,
            outside: DomainError | type[DomainError] | None = None) -> None:
    """Raise unless `can(user, action, obj)`.

    `error` (default: core's PermissionDenied) is raised; if `outside` is given, it is raised instead
    when the user does hold a granting role and only the object is out of their scope (e.g. an
    operator of another county gets `outside_region`, a buyer `permission_denied`).
    """
    if can(user, action, obj):
        return
    chosen = outside if outside is not None and may_hold(user, action) else error
    if chosen is None:
        raise PermissionDenied()
    raise chosen() if isinstance(chosen, type) else chosen


def table() -> dict[str, dict[str, str]]:
    """The rules with every role spelled out ("—" where a role is not granted), for docs and tests."""
    return {action: {role: rule.get(role, "—") for role in roles.ALL_ROLES} for action, rule in RULES.items()}
