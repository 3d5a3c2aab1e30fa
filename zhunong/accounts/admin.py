"""Back office for users (roles and region) and API tokens, and the admin site's Chinese title."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from zhunong.core.models import AuditEntry

from . import policy
from .auditlog import entries_visible_to
from .backoffice import scoped_choices
from .models import ApiToken, User
from .roles import ROLE_LABELS
from .selectors import is_platform_admin, regions_visible_to
from .services import access_of, audit_access_change

admin.site.site_header = "助农直播 · 后台"
admin.site.site_title = "助农直播 · 后台"
admin.site.index_title = "后台管理"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "role_labels", "region", "is_staff", "is_active", "last_login"]
    list_filter = ["groups", "is_staff", "is_active"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("个人信息"), {"fields": ["display_name", "email", "phone"]}),
        (_("角色与辖区"), {"fields": ["groups", "region", "is_active", "is_staff", "is_superuser"],
                         "description": _("角色决定能做什么，辖区决定能看到哪些地区的数据。")}),
        (_("重要日期"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        (_("角色与辖区"), {"fields": ["display_name", "groups", "region", "is_staff"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]

    @admin.display(description=_("角色"))
    def role_labels(self, obj: User) -> str:
        return "、".join(ROLE_LABELS.get(name, name) for name in obj.groups.values_list("name", flat=True))

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        qs = super().get_queryset(request).select_related("region")
        user = request.user
        if is_platform_admin(user):
            return qs
        if user.region_id is None:
            return qs.filter(pk=user.pk)
        return qs.filter(region__path__startswith=user.region.path)

    def get_readonly_fields(self, request, obj=None):  # noqa: ANN001, ANN201
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")  # only a superuser makes another
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # noqa: ANN001, ANN201
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "region":
            scoped_choices(field, regions_visible_to(request.user))
        return field

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        # Roles (groups) are saved after the user, in save_related: the audit compares there.
        stored = User.objects.filter(pk=obj.pk).select_related("region").first() if change else None
        form._access_before = access_of(stored) if stored is not None else access_of(User())
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):  # noqa: ANN001, ANN201
        super().save_related(request, form, formsets, change)
        audit_access_change(actor=request.user, user=form.instance, before=form._access_before)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by POST /api/v1/auth/token and stored hashed: here they are only looked at
    (and deleted, which revokes them)."""

    list_display = ["key_prefix", "user", "created", "last_used", "expires"]
    search_fields = ["user__username", "prefix"]
    fields = ["user", "key_prefix", "created", "last_used", "expires"]
    readonly_fields = fields

    @admin.display(description=_("令牌前缀"))
    def key_prefix(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("创建时间"), ordering="created_at")
    def created(self, obj: ApiToken):  # noqa: ANN201
        return obj.created_at

    @admin.display(description=_("最近使用"), ordering="last_used_at")
    def last_used(self, obj: ApiToken):  # noqa: ANN201
        return obj.last_used_at or "—"

    @admin.display(description=_("过期时间"), ordering="expires_at")
    def expires(self, obj: ApiToken):  # noqa: ANN201
        return obj.expires_at

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        qs = super().get_queryset(request).select_related("user")
        return qs if is_platform_admin(request.user) else qs.filter(user=request.user)

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, read-only (core.audit): nothing here adds, changes or deletes an entry. Admins see
    every entry, the discipline-inspection office those of its region (accounts.auditlog)."""

    list_display = ["at", "action", "outcome", "actor_label", "address", "subject_label", "region"]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_label", "subject_label", "subject_id"]
    date_hierarchy = "at"
    fields = ["at", "action", "outcome", "actor", "actor_label", "address", "subject_type", "subject_id",
              "subject_label", "region", "before", "after"]
    readonly_fields = fields
    list_select_related = ["region"]

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        return entries_visible_to(request.user)

    def has_module_permission(self, request):  # noqa: ANN001, ANN201
        return policy.may_hold(request.user, "audit.view")

    def has_view_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return policy.may_hold(request.user, "audit.view")

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def get_actions(self, request):  # noqa: ANN001, ANN201
        return {}  # not even the bulk "delete selected"
