"""Back office for real-name identities (masked, read-only), host training and the three-thirds marks.

Imported by admin.py. Identities show the masked number only (the full one is on the verifying operator's
page); courses and their sessions are added through live.training (save hooks), attendance and certificates
are kept on the training pages and shown here read-only; segments are stream records.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from zhunong.accounts.selectors import county_staff_q, is_platform_admin
from zhunong.core.errors import DomainError

from . import training
from .models import Attendance, Certificate, Course, HostIdentity, StreamSegment, TrainingSession


def _scoped(qs: QuerySet, user, county_field: str) -> QuerySet:  # noqa: ANN001
    return qs if is_platform_admin(user) else qs.filter(county_staff_q(user, county_field))


class _ReadOnly(admin.ModelAdmin):
    county_field = ""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scoped(super().get_queryset(request), request.user, self.county_field)


@admin.register(HostIdentity)
class HostIdentityAdmin(_ReadOnly):
    county_field = "host__channel__county"
    list_display = ("host", "real_name", "id_masked", "region_agreement", "recorded_by", "recorded_at")
    fields = list_display
    readonly_fields = list_display
    search_fields = ("real_name", "host__user__username")


class SessionInline(admin.TabularInline):
    model = TrainingSession
    extra = 1
    can_delete = False
    fields = ("topic", "starts_at", "ends_at", "place", "trainer")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # sessions already held are the record attendance rests on


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "county", "created_by", "created_at")
    search_fields = ("title",)
    fields = ("county", "title", "description")
    inlines = [SessionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scoped(super().get_queryset(request).select_related("county"), request.user, "county")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:  # noqa: ANN001
        return ("county", "title", "description") if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        if change:
            return
        try:
            created = training.create_course(actor=request.user, county=obj.county, title=obj.title,
                                             description=obj.description)
        except DomainError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
            obj.pk = None
            return
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at

    def save_formset(self, request, form, formset, change) -> None:  # noqa: ANN001
        # New sessions go through the service (times, length, who may).
        course = form.instance
        if course.pk is None:
            return
        for session in formset.save(commit=False):
            if session.pk is not None:
                continue
            try:
                training.add_session(actor=request.user, course=course, topic=session.topic,
                                     starts_at=session.starts_at, ends_at=session.ends_at, place=session.place,
                                     trainer=session.trainer)
            except DomainError as exc:
                self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)


@admin.register(Attendance)
class AttendanceAdmin(_ReadOnly):
    county_field = "session__course__county"
    list_display = ("session", "host", "present", "recorded_by", "recorded_at")
    list_filter = ("present",)
    fields = list_display
    readonly_fields = list_display


@admin.register(Certificate)
class CertificateAdmin(_ReadOnly):
    county_field = "course__county"
    list_display = ("number", "course", "host", "hours", "issued_by", "issued_at")
    fields = list_display
    readonly_fields = list_display
    search_fields = ("number", "host__user__username")


@admin.register(StreamSegment)
class StreamSegmentAdmin(_ReadOnly):
    county_field = "stream__channel__county"
    list_display = ("stream", "kind", "started_at", "ended_at", "started_by", "ended_by")
    list_filter = ("kind",)
    fields = list_display
    readonly_fields = list_display
