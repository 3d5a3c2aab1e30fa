"""Notifications in the admin, read-only: what was sent to whom, over which channel, and the SMS sandbox."""

from __future__ import annotations

from django.contrib import admin

from zhunong.core.redaction import mask_phone

from .models import Delivery, Notification, SandboxSms


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["channel", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ["created_at", "kind", "user", "title", "read_at"]
    list_filter = ["kind"]
    search_fields = ["event_key", "user__username"]
    fields = ["created_at", "kind", "event_key", "user", "title", "body", "url", "in_site", "read_at"]
    readonly_fields = fields
    inlines = [DeliveryInline]


@admin.register(SandboxSms)
class SandboxSmsAdmin(ReadOnly):
    list_display = ["sent_at", "masked_phone", "text"]
    fields = ["sent_at", "masked_phone", "text"]
    readonly_fields = fields

    @admin.display(description="手机号")
    def masked_phone(self, obj: SandboxSms) -> str:
        return mask_phone(obj.phone)
