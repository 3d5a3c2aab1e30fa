"""Back office for regions, producers, plots and harvest batches. Writes go through producers.services;
every list is scoped to what the user may see (producers.backoffice)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhunong.accounts.backoffice import ServiceAdmin, ServiceForm, note_formset_saves, scoped_choices
from zhunong.core.text import clean_text

from . import backoffice, services
from .models import HarvestBatch, Plot, Producer, Region

# --- regions ---------------------------------------------------------------------------------------


class RegionForm(ServiceForm):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]

    def service_clean(self, cleaned: dict) -> None:
        if self.instance.pk:
            clean_text(cleaned["name"], field="name", max_length=64)  # a rename changes the name only
            return
        services.clean_region_fields(code=cleaned["code"], name=cleaned["name"], level=cleaned["level"],
                                     parent=cleaned.get("parent"))


@admin.register(Region)
class RegionAdmin(ServiceAdmin):
    form = RegionForm
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    ordering = ["path"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return backoffice.visible_regions(user).select_related("parent")

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        # Codes and the place in the tree make up every descendant's path: fixed once created.
        return ["code", "level", "parent"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "parent":
            scoped_choices(field, backoffice.visible_regions(request.user).exclude(level=Region.Level.VILLAGE))
        return field

    def service_save(self, user, obj, data, change):  # noqa: ANN001, ANN201
        if change:
            return services.rename_region(actor=user, region=obj, name=data["name"])
        return services.create_region(code=data["code"], name=data["name"], level=data["level"],
                                      parent=data.get("parent"))


# --- producers and their plots ---------------------------------------------------------------------

PRODUCER_FIELDS = ["name", "kind", "registered_poor", "description", "contact_name", "contact_phone",
                   "payee_name", "payee_account", "shipping_address"]


class ProducerForm(ServiceForm):
    class Meta:
        model = Producer
        fields = [*PRODUCER_FIELDS[:2], "village", *PRODUCER_FIELDS[2:], "members", "managers"]

    def service_clean(self, cleaned: dict) -> None:
        village = cleaned["village"]
        if not self.instance.pk or village.pk != self.instance.village_id:
            services.check_can_register_producer(actor=self.actor, village=village)
        services.clean_producer_fields(**{f: cleaned.get(f) or "" for f in PRODUCER_FIELDS
                                          if f not in ("kind", "registered_poor")},
                                       kind=cleaned["kind"], registered_poor=cleaned.get("registered_poor", False),
                                       managers=list(cleaned.get("managers") or []))
        services.check_members(kind=cleaned["kind"], village=village, members=list(cleaned.get("members") or []),
                               producer=self.instance if self.instance.pk else None)


class PlotForm(ServiceForm):
    class Meta:
        model = Plot
        fields = ["producer", "name", "area_mu", "crop", "variety", "soil_type", "location"]

    def service_clean(self, cleaned: dict) -> None:
        producer = cleaned.get("producer") or (self.instance.producer if self.instance.producer_id else None)
        if producer is not None and producer.pk:
            services.check_producer_writer(actor=self.actor, producer=producer)
        services.clean_plot_fields(**{f: cleaned.get(f) if f == "area_mu" else cleaned.get(f) or ""
                                      for f in ("name", "area_mu", "crop", "variety", "soil_type", "location")})


def _plot_values(data: dict) -> dict:
    return {f: data.get(f) if f == "area_mu" else data.get(f) or ""
            for f in ("name", "area_mu", "crop", "variety", "soil_type", "location")}


class PlotInline(admin.TabularInline):
    model = Plot
    form = PlotForm
    fields = ["name", "area_mu", "crop", "variety", "soil_type", "location"]
    extra = 1
    can_delete = False
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):  # noqa: ANN001, ANN201
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(formset.form.__name__, (formset.form,), {"actor": request.user})
        return formset


@admin.register(Producer)
class ProducerAdmin(ServiceAdmin):
    form = ProducerForm
    inlines = [PlotInline]
    list_display = ["name", "kind", "village", "registered_poor", "phone_masked", "payee_masked", "created_at"]
    list_filter = ["kind", "registered_poor"]
    search_fields = ["name", "contact_name"]
    filter_horizontal = ["members", "managers"]

    @admin.display(description=_("联系电话"))
    def phone_masked(self, obj: Producer) -> str:
        return obj.contact_phone_masked

    @admin.display(description=_("收款账号"))
    def payee_masked(self, obj: Producer) -> str:
        return obj.payee_account_masked

    def visible(self, user):  # noqa: ANN001, ANN201
        return backoffice.visible_producers(user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "village":
            scoped_choices(field, backoffice.visible_regions(request.user).filter(level=Region.Level.VILLAGE))
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "members":
            scoped_choices(field, backoffice.visible_producers(request.user).filter(kind=Producer.Kind.HOUSEHOLD))
        elif db_field.name == "managers":
            scoped_choices(field, backoffice.manager_choices(request.user))
        return field

    def service_save(self, user, obj, data, change):  # noqa: ANN001, ANN201
        values = {f: data.get(f) or "" for f in PRODUCER_FIELDS if f not in ("kind", "registered_poor")}
        values.update(kind=data["kind"], registered_poor=bool(data.get("registered_poor")),
                      managers=list(data.get("managers") or []), members=list(data.get("members") or []))
        if change:
            return services.update_producer(actor=user, producer=obj, village=data["village"], **values)
        return services.create_producer(actor=user, village=data["village"], **values)

    def save_formset(self, request, form, formset, change):  # noqa: ANN001, ANN201
        # Plots are written by the plot services, each form in turn; nothing is deleted here.
        new, changed = [], []
        for plot_form in formset.forms:
            if not plot_form.has_changed() or not plot_form.is_valid() or not plot_form.cleaned_data:
                continue
            values = _plot_values(plot_form.cleaned_data)
            if plot_form.instance.pk:
                plot = services.update_plot(actor=request.user, plot=plot_form.instance, **values)
                changed.append((plot, plot_form.changed_data))
            else:
                new.append(services.create_plot(actor=request.user, producer=formset.instance, **values))
        note_formset_saves(formset, new=new, changed=changed, deleted=[])


@admin.register(Plot)
class PlotAdmin(ServiceAdmin):
    form = PlotForm
    list_display = ["name", "producer", "crop", "variety", "area_mu", "soil_type"]
    list_filter = ["crop"]
    search_fields = ["name", "crop", "variety", "producer__name"]

    def visible(self, user):  # noqa: ANN001, ANN201
        return backoffice.visible_plots(user)

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["producer"] if obj is not None else []  # batches point at the plot: it keeps its producer

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "producer":
            scoped_choices(field, backoffice.visible_producers(request.user))
        return field

    def service_save(self, user, obj, data, change):  # noqa: ANN001, ANN201
        if change:
            return services.update_plot(actor=user, plot=obj, **_plot_values(data))
        return services.create_plot(actor=user, producer=data["producer"], **_plot_values(data))


# --- harvest batches -------------------------------------------------------------------------------

BATCH_FIELDS = ["harvested_on", "quantity", "unit", "grade", "shelf_life_days", "lot_number"]


class HarvestBatchForm(ServiceForm):
    class Meta:
        model = HarvestBatch
        fields = ["plot", *BATCH_FIELDS]

    def service_clean(self, cleaned: dict) -> None:
        services.check_producer_writer(actor=self.actor, producer=cleaned["plot"].producer)
        services.clean_batch_fields(**_batch_values(cleaned))


def _batch_values(data: dict) -> dict:
    values = {f: data.get(f) for f in BATCH_FIELDS}
    values["grade"] = values["grade"] or ""
    values["lot_number"] = values["lot_number"] or ""
    return values


@admin.register(HarvestBatch)
class HarvestBatchAdmin(ServiceAdmin):
    form = HarvestBatchForm
    # quality.admin re-registers this admin with the latest inspection's column (quality sits above producers).
    list_display = ["trace_code", "plot", "harvested_on", "quantity", "unit", "grade"]
    list_filter = ["unit", "harvested_on"]
    search_fields = ["trace_code", "lot_number", "plot__name", "plot__producer__name"]
    date_hierarchy = "harvested_on"

    @admin.display(description=_("溯源码"))
    def trace_code_display(self, obj: HarvestBatch) -> str:
        return obj.trace_code or "（保存后生成）"

    def get_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["trace_code_display", "plot", *BATCH_FIELDS]

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        return ["trace_code_display"]

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        # A harvest record is a fact in the trace chain (its code is printed, its events are recorded):
        # it is viewed, never edited. A mistake is corrected by recording a new batch.
        return False

    def visible(self, user):  # noqa: ANN001, ANN201
        return backoffice.visible_batches(user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "plot":
            scoped_choices(field, backoffice.visible_plots(request.user))
        return field

    def service_save(self, user, obj, data, change):  # noqa: ANN001, ANN201
        return services.create_batch(actor=user, plot=data["plot"], **_batch_values(data))

