"""Back office: the integrity office's list of flags (below-cost prices, quotas, fake orders…).

Flags are raised by services and are read-only here; each user sees the flags of their region.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import FlagReview, IntegrityFlag
from .selectors import flags_visible_to


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
    list_display = ["raised_at", "kind", "status", "score", "summary", "region_name", "raiser"]
    list_filter = ["kind", "status", RegionFilter]
    search_fields = ["summary"]
    date_hierarchy = "created_at"
    fields = ["kind", "status", "summary", "details", "detector", "score", "stream", "evidence", "region_full",
              "subject", "raiser", "raised_at", "review_text"]
    readonly_fields = fields

    @admin.display(description=_("时间"), ordering="created_at")
    def raised_at(self, obj: IntegrityFlag):  # noqa: ANN201
        return obj.created_at

    @admin.display(description=_("地区"), ordering="region__path")
    def region_name(self, obj: IntegrityFlag) -> str:
        return obj.region.name if obj.region else "—"

    @admin.display(description=_("地区"))
    def region_full(self, obj: IntegrityFlag) -> str:
        return obj.region.full_name if obj.region else "—"

    @admin.display(description=_("对象"))
    def subject(self, obj: IntegrityFlag) -> str:
        return f"{obj.subject_type.name} #{obj.subject_id}" if obj.subject_type else "—"

    @admin.display(description=_("复核"))
    def review_text(self, obj: IntegrityFlag) -> str:
        review = FlagReview.objects.filter(flag=obj).select_related("reviewer").first()
        if review is None:
            return "—"
        return f"{review.get_decision_display()} · {review.reviewer} · {review.reviewed_at:%Y-%m-%d %H:%M} · {review.reason}"

    @admin.display(description=_("提出者"))
    def raiser(self, obj: IntegrityFlag) -> str:
        return str(obj.raised_by) if obj.raised_by else _("系统")

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        return flags_visible_to(request.user)

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False  # raised by services (e.g. a below-cost price), never typed in

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(FlagReview)
class FlagReviewAdmin(admin.ModelAdmin):
    """The office's reviews: kept as given (reviews are made on the office's pages, never here)."""

    list_display = ["reviewed_at", "flag", "decision", "reviewer"]
    list_filter = ["decision"]
    fields = ["flag", "decision", "reason", "reviewer", "reviewed_at"]
    readonly_fields = fields

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        return FlagReview.objects.filter(flag__in=flags_visible_to(request.user)).select_related("flag", "reviewer")

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False
