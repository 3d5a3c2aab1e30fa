"""Back-office reads: which regions, producers, plots and batches a staff user may see.

Platform admins see everything; county operators and regulators their region's subtree; producer
managers only the producers they manage (and those producers' plots and batches); other roles nothing.
The API and the admin both read through here, so the two cannot disagree.
"""

from __future__ import annotations

from django.db.models import QuerySet

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, regions_visible_to, scope

from .errors import BatchNotFound, PlotNotFound, ProducerNotFound, UnknownRegion
from .models import HarvestBatch, Plot, Producer, Region


def visible_producers(user: User) -> QuerySet[Producer]:
    qs = Producer.objects.select_related("village").order_by("id")
    if is_platform_admin(user) or not user.is_authenticated:
        return scope(qs, user, region_field="village")
    if user.has_role(roles.COUNTY_OPERATOR) or user.has_role(roles.REGULATOR):
        return scope(qs, user, region_field="village")
    if user.has_role(roles.PRODUCER_MANAGER):
        # scope() reaches managers through a path to a producer; here the producer is the row itself.
        return qs.filter(managers=user)
    return qs.none()


def visible_plots(user: User) -> QuerySet[Plot]:
    qs = Plot.objects.select_related("producer__village").order_by("id")
    return scope(qs, user, region_field="producer__village", producer_field="producer")


def visible_batches(user: User) -> QuerySet[HarvestBatch]:
    qs = HarvestBatch.objects.select_related("plot__producer__village").order_by("-harvested_on", "-id")
    return scope(qs, user, region_field="plot__producer__village", producer_field="plot__producer")


def visible_regions(user: User) -> QuerySet[Region]:
    """Regions a staff user works in: their region's subtree (everything for a platform admin)."""
    return regions_visible_to(user)


def manager_choices(user: User) -> QuerySet[User]:
    """Producer managers the user may appoint: those of their own region (a manager's region is set when a
    platform admin creates them); every one for a platform admin."""
    managers = User.objects.filter(groups__name=roles.PRODUCER_MANAGER).order_by("username")
    if is_platform_admin(user):
        return managers
    return managers.filter(region__in=visible_regions(user))


def get_visible_producer(user: User, producer_id: int) -> Producer:
    try:
        return visible_producers(user).get(pk=producer_id)
    except (Producer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ProducerNotFound()


def get_visible_plot(user: User, plot_id: int) -> Plot:
    try:
        return visible_plots(user).get(pk=plot_id)
    except (Plot.DoesNotExist, ValueError, TypeError, OverflowError):
        raise PlotNotFound()


def get_visible_batch(user: User, batch_id: int) -> HarvestBatch:
    try:
        return visible_batches(user).get(pk=batch_id)
    except (HarvestBatch.DoesNotExist, ValueError, TypeError, OverflowError):
        raise BatchNotFound()


def get_region(region_id: int) -> Region:
    """Any region by id (regions are public); UnknownRegion otherwise."""
    try:
        return Region.objects.get(pk=region_id)
    except (Region.DoesNotExist, ValueError, TypeError, OverflowError):
        raise UnknownRegion(details={"region_id": region_id})
