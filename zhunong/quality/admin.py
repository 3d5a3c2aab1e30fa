"""Back office for inspections and the trace chain.

A regulator records an inspection with its tested items inline; saving goes through
`quality.services.record_inspection`, so the products sold from the batch are listed (or delisted) by
the listing machine exactly as through the API. Inspections are records: never edited or deleted
here (a re-inspection is a new record). Every list is limited to the user's region.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, region_q
from zhunong.core.errors import DomainError
from zhunong.producers.admin import HarvestBatchAdmin
from zhunong.producers.models import HarvestBatch

from . import selectors, services
from .models import Inspection, InspectionItem, TraceEvent


class _Rollback(Exception):
    pass


def _items(formset: BaseInlineFormSet) -> list[services.ItemInput]:
    out = []
    for data in getattr(formset, "cleaned_data", []):
        if not data or data.get("DELETE"):
            continue
        out.append(services.ItemInput(name=data.get("name") or "", value=data.get("value"), limit=data.get("limit"),
                                      limit_kind=data.get("limit_kind") or "max", unit=data.get("unit") or ""))
    return out


def _inspection_kwargs(actor: User, inspection: Inspection, items: list[services.ItemInput]) -> dict:
    return {"actor": actor, "batch": inspection.batch, "sample_code": inspection.sample_code,
            "lab": inspection.lab, "sampled_on": inspection.sampled_on, "result": inspection.result,
            "notes": inspection.notes, "items": items}


class InspectionItemFormSet(BaseInlineFormSet):
    actor: User | None = None  # set per request by the inline

    def clean(self) -> None:
        super().clean()
        inspection = self.instance
        if any(self.errors) or inspection.pk or not inspection.batch_id or not inspection.sampled_on:
            return  # field errors first; the main form reports its own
        # Run the real service and roll it back: every rule it enforces (region, result vs items,
        # dates, duplicate sample code…) shows on the form instead of failing on save.
        try:
            with transaction.atomic():
                services.record_inspection(**_inspection_kwargs(self.actor, inspection, _items(self)))
                raise _Rollback()
        except _Rollback:
            pass
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code)


class InspectionItemInline(admin.TabularInline):
    model = InspectionItem
    formset = InspectionItemFormSet
    fields = ["name", "value", "limit", "limit_kind", "unit", "passed"]
    readonly_fields = ["passed"]
    extra = 3
    can_delete = False

    def get_formset(self, request, obj=None, **kwargs):  # noqa: ANN001, ANN201
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"actor": request.user})

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return obj is None and super().has_add_permission(request, obj)


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    inlines = [InspectionItemInline]
    fields = ["batch", "sample_code", "lab", "sampled_on", "result", "certificate", "notes"]
    list_display = ["sample_code", "batch_code", "crop", "village", "sampled_on", "result", "lab", "inspector"]
    list_filter = ["result", "sampled_on"]
    search_fields = ["sample_code", "batch__trace_code", "lab"]
    date_hierarchy = "sampled_on"

    @admin.display(description=_("溯源码"), ordering="batch__trace_code")
    def batch_code(self, obj: Inspection) -> str:
        return obj.batch.trace_code

    @admin.display(description=_("作物"))
    def crop(self, obj: Inspection) -> str:
        return obj.batch.plot.crop

    @admin.display(description=_("村"))
    def village(self, obj: Inspection) -> str:
        return obj.batch.plot.producer.village.name

    def get_queryset(self, request: HttpRequest) -> QuerySet[Inspection]:
        return selectors.inspections_visible_to(request.user).select_related("batch__plot__producer__village")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        if db_field.name == "batch":
            qs = HarvestBatch.objects.select_related("plot__producer__village").order_by("-harvested_on", "-id")
            if not is_platform_admin(request.user):
                qs = qs.filter(region_q(request.user, "plot__producer__village"))
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        # Records: the change page is read-only (a correction is a new inspection).
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        # Nothing yet: the items are in the inline, which save_related has; the service writes both.
        pass

    def save_related(self, request, form, formsets, change) -> None:  # noqa: ANN001
        if change:
            return
        inspection = form.instance
        formset = formsets[0] if formsets else None
        kwargs = _inspection_kwargs(request.user, inspection, _items(formset) if formset is not None else [])
        saved = services.record_inspection(**kwargs, certificate=form.cleaned_data.get("certificate") or None)
        # The admin keeps using its own object (log entry, redirect): make it the saved row.
        inspection.pk = saved.pk
        inspection._state.adding = False
        inspection.refresh_from_db()
        if formset is not None:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = list(saved.items.all()), [], []


@admin.register(TraceEvent)
class TraceEventAdmin(admin.ModelAdmin):
    """The chain as recorded; written only by services (harvest, inspection, processing, packing, shipping)."""

    list_display = ["event_time", "event_type", "biz_step", "batch_code", "region"]
    list_filter = ["event_type", "biz_step"]
    search_fields = ["batch__trace_code", "linked_batches__trace_code"]
    fields = ["batch", "event_type", "biz_step", "action", "event_time", "region", "inspection", "payload",
              "event_uuid", "recorded_at"]
    readonly_fields = fields

    @admin.display(description=_("溯源码"), ordering="batch__trace_code")
    def batch_code(self, obj: TraceEvent) -> str:
        return obj.batch.trace_code

    def get_queryset(self, request: HttpRequest) -> QuerySet[TraceEvent]:
        qs = TraceEvent.objects.select_related("batch", "region")
        user = request.user
        if is_platform_admin(user):
            return qs
        return qs.filter(region_q(user, "batch__plot__producer__village"))

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


# --- harvest batches, with their latest inspection ------------------------------------------------


class HarvestBatchWithInspectionAdmin(HarvestBatchAdmin):
    """Producers' batch admin plus the latest inspection's result (inspections are quality's)."""

    list_display = [*HarvestBatchAdmin.list_display, "inspection_result"]

    @admin.display(description=_("最近抽检"))
    def inspection_result(self, obj: HarvestBatch) -> str:
        inspection = selectors.latest_inspection(obj)
        return inspection.get_result_display() if inspection else "未抽检"


admin.site.unregister(HarvestBatch)
admin.site.register(HarvestBatch, HarvestBatchWithInspectionAdmin)
