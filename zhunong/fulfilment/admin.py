"""Back office for fulfilment and after-sales.

Everything here is read-only: statuses move only through the services (the pages and the API), so
the admin offers actions that call those services and shows each object's history. Lists are scoped
like the rest of the back office: the platform admin sees everything, county staff their region,
producer managers their producers (and a co-op manager its member households).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zhunong.accounts import policy
from zhunong.accounts.backoffice import run_action

from . import selectors
from .models import (
    AfterSalesRequest,
    AfterSalesTransition,
    Complaint,
    ComplaintTransition,
    Pledge,
    PledgeClaim,
    PledgeClaimTransition,
    Review,
    Shipment,
    ShipmentItem,
    ShipmentTransition,
)
from .services import after_sales as after_sales_services
from .services import complaints as complaint_services
from .services import pledges as pledge_services
from .services import reviews as review_services
from .services import shipments as shipment_services


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete through forms: the services own every write."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.visible(request.user)

    def visible(self, user) -> QuerySet:  # noqa: ANN001
        raise NotImplementedError

    def has_handle_permission(self, request: HttpRequest) -> bool:
        return policy.may_hold(request.user, "shipment.handle")

    def has_oversee_permission(self, request: HttpRequest) -> bool:
        return policy.may_hold(request.user, "shipment.oversee")

    def has_complaint_permission(self, request: HttpRequest) -> bool:
        return policy.may_hold(request.user, "complaint.handle")

    def has_hide_permission(self, request: HttpRequest) -> bool:
        return policy.may_hold(request.user, "review.hide")

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return policy.may_hold(request.user, "pledge_claim.decide")


class _History(admin.TabularInline):
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("状态历史")

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


class ShipmentItemInline(admin.TabularInline):
    model = ShipmentItem
    fields = ["line", "quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


class ShipmentHistoryInline(_History):
    model = ShipmentTransition


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "producer", "status", "deadline", "late", "carrier", "tracking_number",
                    "shipped_at", "delivered_at"]
    list_filter = ["status", "late", "carrier", "delivery_confirmation"]
    search_fields = ["order__number", "tracking_number", "producer__name"]
    readonly_fields = ["order", "producer", "status", "ship_from", "carrier", "tracking_number", "deadline", "late",
                       "late_flagged_at", "packed_at", "shipped_at", "delivered_at", "delivery_confirmation",
                       "exception_reason", "created_at"]
    inlines = [ShipmentItemInline, ShipmentHistoryInline]
    actions = ["pack", "confirm_delivered"]
    list_select_related = ["order", "producer"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return selectors.shipments_for(user)

    @admin.action(description=_("标记为已打包"), permissions=["handle"])
    def pack(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset, lambda s: shipment_services.pack_shipment(actor=request.user, shipment=s), "已打包")

    @admin.action(description=_("运营代确认签收（买家电话确认后）"), permissions=["oversee"])
    def confirm_delivered(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset, lambda s: shipment_services.confirm_delivery(actor=request.user, shipment=s),
             "已确认签收")


class AfterSalesHistoryInline(_History):
    model = AfterSalesTransition


@admin.register(AfterSalesRequest)
class AfterSalesRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "line", "producer", "kind", "reason", "amount", "status", "created_at"]
    list_filter = ["status", "reason", "kind"]
    search_fields = ["order__number", "evidence"]
    readonly_fields = ["order", "line", "producer", "buyer", "kind", "reason", "evidence", "amount", "status",
                       "decision_note", "decided_by", "decided_at", "refunded_at", "created_at"]
    inlines = [AfterSalesHistoryInline]
    actions = ["approve_and_refund"]
    list_select_related = ["order", "producer"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return selectors.after_sales_for(user)

    @admin.action(description=_("同意并退款"), permissions=["handle"])
    def approve_and_refund(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset,
             lambda r: after_sales_services.approve_after_sales(actor=request.user, request=r, note="后台同意"), "已退款")


class ComplaintHistoryInline(_History):
    model = ComplaintTransition


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "order", "producer", "region", "category", "status"]
    list_filter = ["status", "category"]
    search_fields = ["order__number", "text"]
    readonly_fields = ["buyer", "order", "line", "producer", "region", "category", "text", "status", "resolution",
                       "handled_by", "created_at", "updated_at"]
    inlines = [ComplaintHistoryInline]
    actions = ["take_up"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return selectors.complaints_for(user)

    @admin.action(description=_("受理"), permissions=["complaint"])
    def take_up(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset,
             lambda c: complaint_services.update_complaint(actor=request.user, complaint=c, status="in_progress"), "已受理")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "product", "producer", "rating", "visible", "created_at"]
    list_filter = ["rating", "visible"]
    search_fields = ["text", "product__name"]
    readonly_fields = ["line", "product", "producer", "buyer", "rating", "text", "visible", "hidden_reason",
                       "created_at"]
    actions = ["hide"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return selectors.reviews_for(user)

    @admin.action(description=_("隐藏评价文字（辱骂、个人信息）"), permissions=["hide"])
    def hide(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset,
             lambda r: review_services.hide_review(actor=request.user, review=r, reason="后台隐藏：内容不当"), "已隐藏")


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
    list_display = ["id", "stream", "host", "terms", "max_per_claim", "total_cap", "funded_by", "created_at"]
    list_filter = ["funded_by"]
    search_fields = ["terms", "stream__title"]
    readonly_fields = ["stream", "host", "product", "terms", "max_per_claim", "total_cap", "funded_by",
                       "created_by", "created_at"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return selectors.pledges_for(user)


class ClaimHistoryInline(_History):
    model = PledgeClaimTransition


@admin.register(PledgeClaim)
class PledgeClaimAdmin(ReadOnlyAdmin):
    list_display = ["id", "pledge", "order", "amount", "status", "compensated_amount", "paid_from", "created_at"]
    list_filter = ["status", "paid_from"]
    search_fields = ["order__number", "text", "compensation_ref"]
    readonly_fields = ["pledge", "order", "claimant", "text", "amount", "status", "decision_reason", "decided_by",
                       "decided_at", "compensated_amount", "paid_from", "compensation_ref", "compensated_at",
                       "created_at"]
    inlines = [ClaimHistoryInline]
    actions = ["start_review"]

    def visible(self, user):  # noqa: ANN001, ANN201
        # The back office shows claims to the county staff who decide them, not to claimants.
        if not policy.may_hold(user, "pledge_claim.view"):
            return PledgeClaim.objects.none()
        return selectors.claims_for(user).exclude(claimant=user) if not policy.is_platform_admin(user) \
            else selectors.claims_for(user)

    @admin.action(description=_("开始审核"), permissions=["decide"])
    def start_review(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset, lambda c: pledge_services.start_claim_review(actor=request.user, claim=c),
             "已开始审核")
