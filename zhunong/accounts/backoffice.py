"""Plumbing every app's admin shares, so the Django admin obeys the same rules as the API.

- `ServiceForm`: a ModelForm whose `clean()` runs the service's own validation with the logged-in user
  as actor, so a rule broken in the admin is shown on the form instead of being bypassed.
- `ServiceAdmin`: saves through services (never `form.save()`), adopts what the service created as
  the admin's object, and hands the request user to its forms.
- `scoped_choices`: foreign-key and many-to-many choices limited to what the user may see.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from zhunong.core.errors import DomainError

from .models import User


def apply_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a service's error on the field it names, or on the form as a whole."""
    field = (exc.details or {}).get("field")
    if field in form.fields and field not in form.errors:
        form.add_error(field, str(exc.message))
    else:
        form.add_error(None, str(exc.message))


class ServiceForm(forms.ModelForm):
    """Subclasses implement `service_clean(cleaned_data)`: call the service's validation, raise DomainError."""

    actor: User | None = None  # set per request by ServiceAdmin.get_form

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned  # field errors first; the service would only repeat them less precisely
        try:
            self.service_clean(cleaned)
        except DomainError as exc:
            apply_domain_error(self, exc)
        return cleaned

    def service_clean(self, cleaned: dict) -> None:
        raise NotImplementedError


def adopt(obj: Model, saved: Model) -> None:
    """Make the admin's unsaved `obj` the row a service just created (the admin keeps using `obj`)."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db
    obj.refresh_from_db()


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes go through services. Subclasses implement `service_save` and
    `visible(user)`; they never save through the form."""

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):  # noqa: ANN001, ANN201
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.visible(request.user)

    def visible(self, user: User) -> QuerySet:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        saved = self.service_save(request.user, obj, form.cleaned_data, change)
        adopt(obj, saved)

    def service_save(self, user: User, obj: Model, data: dict, change: bool) -> Model:
        raise NotImplementedError

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:  # noqa: ANN001
        # Many-to-many fields were written by the service; only inlines remain (each saves via save_formset).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        # Records others depend on (batches, trace events, orders) are never deleted from the back office.
        return False


def note_formset_saves(formset, *, new: list, changed: list, deleted: list) -> None:  # noqa: ANN001
    """What the admin's change message and log need to know about an inline saved through services."""
    formset.new_objects = new
    formset.changed_objects = changed  # [(object, [changed field names])]
    formset.deleted_objects = deleted


def run_action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, call, done: str) -> None:  # noqa: ANN001
    """Apply a service call to each selected object; report what worked and why the rest did not (with
    the error's stable code, which the operator can look up in docs/api.md). Every app's admin actions
    report through this one function."""
    ok, failed = 0, []
    for obj in queryset:
        try:
            call(obj)
            ok += 1
        except DomainError as exc:
            failed.append(f"{obj}: {exc.message} ({exc.code})")
    if ok:
        modeladmin.message_user(request, f"{done}：{ok} 项。", messages.SUCCESS)
    for line in failed:
        modeladmin.message_user(request, line, messages.ERROR)


def scoped_choices(field: forms.Field | None, qs: QuerySet) -> forms.Field | None:
    if field is not None and hasattr(field, "queryset"):
        field.queryset = qs
    return field
