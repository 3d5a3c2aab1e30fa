"""Back office for products. Saving goes through catalog.services (below-cost rule, batches, GTIN,
region); the listing status is never edited, only moved by the actions "提交抽检" and "下架" (and by
inspections), which call the listing state machine."""

from __future__ import annotations

from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from zhunong.accounts import policy
from zhunong.accounts.backoffice import (
    ServiceAdmin,
    ServiceForm,
    note_formset_saves,
    run_action,
    scoped_choices,
)
from zhunong.producers import backoffice as producer_backoffice
from zhunong.producers.models import Region

from . import backoffice, services
from .models import ListingTransition, Product, ProductImage

PRODUCT_FIELDS = ["name", "description", "unit", "unit_size", "price", "cost_floor", "below_cost_reason",
                  "origin", "producers", "batches", "stock", "gtin", "featured"]
ADMIN_DELIST_REASON = "后台下架"


def _product_values(data: dict) -> dict:
    values = {f: data.get(f) for f in PRODUCT_FIELDS}
    for text_field in ("description", "unit_size", "below_cost_reason"):
        values[text_field] = values[text_field] or ""
    values["producers"] = list(values["producers"] or [])
    values["batches"] = list(values["batches"] or [])
    values["stock"] = values["stock"] if values["stock"] is not None else 0
    values["featured"] = bool(values["featured"])
    return values


class ProductForm(ServiceForm):
    class Meta:
        model = Product
        fields = PRODUCT_FIELDS

    def service_clean(self, cleaned: dict) -> None:
        values = _product_values(cleaned)
        product = self.instance if self.instance.pk else None
        if product is not None:
            services.check_can_manage_products(actor=self.actor, region=product.origin)
            services.check_keeps_a_batch(product=product, batches=values["batches"])
        services.clean_product_fields(actor=self.actor, product=product, **values)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    fields = ["image", "caption", "position"]
    extra = 1


class ListingHistoryInline(admin.TabularInline):
    model = ListingTransition
    verbose_name = _("上架状态变更")
    verbose_name_plural = _("上架状态历史")
    fields = ["when", "from_label", "to_label", "who", "reason_text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("时间"))
    def when(self, obj: ListingTransition):  # noqa: ANN201
        return obj.at

    @admin.display(description=_("原状态"))
    def from_label(self, obj: ListingTransition) -> str:
        return obj.get_from_status_display()

    @admin.display(description=_("新状态"))
    def to_label(self, obj: ListingTransition) -> str:
        return obj.get_to_status_display()

    @admin.display(description=_("操作人"))
    def who(self, obj: ListingTransition) -> str:
        return str(obj.actor) if obj.actor else "—"

    @admin.display(description=_("原因"))
    def reason_text(self, obj: ListingTransition) -> str:
        return obj.reason

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    form = ProductForm
    inlines = [ProductImageInline, ListingHistoryInline]
    list_display = ["name", "origin", "price", "cost_floor", "status", "stock", "featured", "updated_at"]
    list_filter = ["status", "featured", "unit"]
    search_fields = ["name", "gtin"]
    readonly_fields = ["status", "below_cost_flag"]
    filter_horizontal = ["producers", "batches"]
    actions = ["submit_for_inspection", "delist"]
    fieldsets = [
        (None, {"fields": ["name", "description", "unit", "unit_size", "origin", "producers", "batches", "stock",
                           "gtin", "featured"]}),
        (_("价格"), {"fields": ["price", "cost_floor", "below_cost_reason", "below_cost_flag"],
                     "description": _("售价低于成本底价时必须填写原因，并将推送廉洁监督。")}),
        (_("上架状态"), {"fields": ["status"],
                        "description": _("状态只能通过“提交抽检”“下架”操作和抽检结果改变。")}),
    ]

    @admin.display(description=_("低于成本"), boolean=True)
    def below_cost_flag(self, obj: Product) -> bool | None:
        return obj.below_cost if obj.pk else None

    def visible(self, user):  # noqa: ANN001, ANN201
        return backoffice.visible_products(user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "origin":
            scoped_choices(field, producer_backoffice.visible_regions(request.user).filter(
                level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE]))
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "producers":
            scoped_choices(field, producer_backoffice.visible_producers(request.user))
        elif db_field.name == "batches":
            scoped_choices(field, producer_backoffice.visible_batches(request.user))
        return field

    def service_save(self, user, obj, data, change):  # noqa: ANN001, ANN201
        values = _product_values(data)
        if change:
            values["gtin"] = values["gtin"] or ""  # "" clears; None would mean "unchanged"
            return services.update_product(actor=user, product=obj, **values)
        return services.create_product(actor=user, **values)

    def save_formset(self, request, form, formset, change):  # noqa: ANN001, ANN201
        if formset.model is not ProductImage:
            note_formset_saves(formset, new=[], changed=[], deleted=[])  # the listing history is read-only
            return
        product = formset.instance
        new, changed, deleted = [], [], []
        for image_form in formset.forms:
            if not image_form.has_changed() or not image_form.cleaned_data:
                continue
            data = image_form.cleaned_data
            existing = image_form.instance if image_form.instance.pk else None
            if data.get("DELETE"):
                if existing is not None:
                    services.delete_product_image(actor=request.user, image=existing)
                    deleted.append(existing)
                continue
            upload = data.get("image")
            image = services.save_product_image(
                actor=request.user, product=product, existing=existing, caption=data.get("caption") or "",
                position=data.get("position") or 0, image=upload if isinstance(upload, UploadedFile) else None)
            if existing is None:
                new.append(image)
            else:
                changed.append((image, image_form.changed_data))
        note_formset_saves(formset, new=new, changed=changed, deleted=deleted)

    # --- listing actions: the state machine, never a status field --------------------------------

    def has_delist_permission(self, request) -> bool:  # noqa: ANN001
        return policy.can(request.user, "product.delist")

    @admin.action(description=_("提交抽检"), permissions=["change"])
    def submit_for_inspection(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset,
                   lambda p: services.submit_for_inspection(actor=request.user, product=p), "已提交抽检")

    @admin.action(description=_("下架"), permissions=["delist"])
    def delist(self, request, queryset):  # noqa: ANN001, ANN201
        run_action(self, request, queryset,
                   lambda p: services.delist_product(actor=request.user, product=p,
                                                     reason=f"{ADMIN_DELIST_REASON}（{request.user.username}）"),
                   "已下架")

