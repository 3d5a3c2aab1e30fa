"""The landing after sign-in and the staff home (工作台)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhunong.accounts.roles import COUNTY_OPERATOR

from . import places, selectors


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """settings.LOGIN_REDIRECT_URL: sends each role to where it works (the home page for buyers and visitors)."""
    return redirect(places.landing_url(request.user))


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Every place of the user's roles; for county operators (and the platform admin) the county's figures."""
    user = request.user
    user_places = places.places_for(user)
    if not user_places:
        raise PermissionDenied(_("工作台只对工作人员、生产者和主播开放。"))
    county = user.has_role(COUNTY_OPERATOR) or user.is_superuser or user.has_role("platform_admin")
    context = {"places": user_places, "county": county}
    if county:
        figures = selectors.county_figures(user)
        change = figures.sales_this_week - figures.sales_last_week
        context.update(figures=figures, streams=selectors.upcoming_and_live(user),
                       sales_up=change > 0, sales_down=change < 0, sales_diff=abs(change))
    return render(request, "workbench/home.html", context)
