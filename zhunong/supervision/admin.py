"""Back office: the integrity office's list of flags (below-cost prices, quotas, fake orders…).

Flags are raised by services and are read-only here; each user sees the flags of their region.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.selectors import is_platform_admin

from .models import IntegrityFlag


class RegionFilter(admin.SimpleListFilter):
    title = _("地区")
    parameter_name = "region"

    def lookups(self, request, model_admin):  # noqa: ANN001, ANN201
        regions = model_admin.get_queryset(request).exclude(region=None).values_list(
            "region__code", "region__name").distinct().order_by("region__code")
        return [(code, name) for code, name in regions]

    def queryset(self, request, queryset):  # noqa: ANN001, ANN201
        if self.value():
            return queryset.filter(region__code=self.value())
        return queryset


@admin.register(IntegrityFlag)
class IntegrityFlagAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "status", "summary", "region", "raised_by"]
    list_filter = ["kind", "status", RegionFilter, "created_at"]
    search_fields = ["summary"]
    date_hierarchy = "created_at"
    readonly_fields = ["kind", "status", "summary", "details", "region", "subject_type", "subject_id", "raised_by",
                       "created_at"]
    fields = readonly_fields

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        qs = super().get_queryset(request).select_related("region", "raised_by")
        user = request.user
        if is_platform_admin(user):
            return qs
        if not user.is_authenticated or user.region_id is None:
            return qs.none()
        # A flag without a region concerns the whole platform: platform admins only.
        return qs.filter(region__path__startswith=user.region.path)

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False  # raised by services (e.g. a below-cost price), never typed in

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False
