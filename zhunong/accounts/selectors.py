"""Which objects a user sees: region scoping of querysets (who may do what to one object is accounts.policy);
a user's live API tokens."""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from . import policy, roles
from .models import ApiToken, User


def is_platform_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(roles.PLATFORM_ADMIN)))


def region_q(user: User, field: str) -> Q | None:
    """A filter limiting `field` (a path to a Region) to the user's region subtree.

    None means unrestricted (platform admin). Staff without a region see nothing.
    """
    if is_platform_admin(user):
        return None
    if user.region_id is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": user.region.path})


def county_staff_q(user: User, field: str) -> Q:
    """The rows a user sees as county staff: those whose `field` (a path to a Region) lies in a county
    operator's or regulator's region; every row for a platform admin (a Q that survives `|`, unlike an
    empty Q()); none for anyone else. Lists combine it with their own grants (a claimant, a host...)."""
    if is_platform_admin(user):
        return ~Q(pk__in=[])
    if user.is_authenticated and (user.has_role(roles.COUNTY_OPERATOR) or user.has_role(roles.REGULATOR)):
        return region_q(user, field)
    return Q(pk__in=[])


def scope(qs: QuerySet, user: User, *, region_field: str, producer_field: str | None = None) -> QuerySet:
    """Limit a back-office queryset to what the user's role lets them see."""
    if not user.is_authenticated:
        return qs.none()
    if is_platform_admin(user):
        return qs
    if user.has_role(roles.COUNTY_OPERATOR) or user.has_role(roles.REGULATOR):
        return qs.filter(county_staff_q(user, region_field))
    if user.has_role(roles.PRODUCER_MANAGER) and producer_field:
        return qs.filter(**{f"{producer_field}__managers": user}).distinct()
    return qs.none()


def regions_visible_to(user: User) -> QuerySet:
    """Regions a staff user works in: their region's subtree (everything for a platform admin)."""
    # The Region model is reached through the user's own field: accounts sits below producers.
    region_model = User._meta.get_field("region").related_model
    qs = region_model.objects.order_by("path")
    if is_platform_admin(user):
        return qs
    if not user.is_authenticated or user.region_id is None:
        return qs.none()
    return qs.filter(path__startswith=user.region.path)


def user_covers_region(user: User, region: Model) -> bool:
    """A platform admin, or a user whose own region is `region` or an ancestor of it (whatever their role:
    who may do what is accounts.policy)."""
    if is_platform_admin(user):
        return True
    return bool(user.is_authenticated and policy.covers_region(user, region))


def live_tokens(user: User) -> QuerySet[ApiToken]:
    """The user's API tokens that still work (not expired), newest first."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at", "-id")
