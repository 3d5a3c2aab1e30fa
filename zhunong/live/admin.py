"""Back office for live rooms: channels, hosts and their verification, streams with their full record
(state history, chat incl. blocked and deleted messages, pins, announcements, mutes and bans, the
moderation log, reports, viewers, the minute series, gifts), and the sensitive-word list.

Records are read-only: they are evidence. Writes go through the services (admin actions and
save hooks call them). County operators see their region; regulators may read; admins see all.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhunong.accounts import policy
from zhunong.accounts.backoffice import run_action
from zhunong.accounts.selectors import county_staff_q, is_platform_admin, region_q
from zhunong.core.errors import DomainError

from . import moderation, streams
from .models import (
    Announcement,
    Channel,
    ChatMessage,
    Gift,
    Host,
    HostVerification,
    ModerationAction,
    Pin,
    Report,
    RoomRestriction,
    SensitiveWord,
    Stream,
    StreamApproval,
    StreamMinute,
    StreamTransition,
    ViewerSession,
)


def _scoped(qs: QuerySet, user, county_field: str) -> QuerySet:  # noqa: ANN001
    """Platform admins see everything; county operators and regulators their region; others nothing."""
    if is_platform_admin(user):
        return qs
    return qs.filter(county_staff_q(user, county_field))



class RecordAdmin(admin.ModelAdmin):
    """A stream record: viewable (with the model's view permission), never edited or deleted here."""

    county_field = "stream__channel__county"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scoped(super().get_queryset(request), request.user, self.county_field)

    def has_operator_permission(self, request: HttpRequest) -> bool:
        return policy.can(request.user, "live.operate")


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


class TransitionInline(_ReadOnlyInline):
    model = StreamTransition
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    show_change_link = False


class PinInline(_ReadOnlyInline):
    model = Pin
    fields = ("product", "pinned_at", "unpinned_at", "pinned_by", "unpinned_by")
    readonly_fields = fields


class AnnouncementInline(_ReadOnlyInline):
    model = Announcement
    fields = ("created_at", "author", "text")
    readonly_fields = fields


class ModerationInline(_ReadOnlyInline):
    model = ModerationAction
    fields = ("created_at", "actor", "action", "target_user", "message", "reason", "details")
    readonly_fields = fields


class MinuteInline(_ReadOnlyInline):
    model = StreamMinute
    fields = ("minute", "concurrent_viewers", "new_viewers", "chat_messages", "likes", "product_clicks")
    readonly_fields = fields
    show_change_link = False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "county", "follower_count", "created_at")
    search_fields = ("name", "county__name")
    fields = ("county", "name", "description", "logo")
    autocomplete_fields = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scoped(super().get_queryset(request).select_related("county"), request.user, "county")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:  # noqa: ANN001
        return ("county",) if obj else ()

    @admin.display(description=_("关注数"))
    def follower_count(self, obj: Channel) -> int:
        return obj.followers.count()

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        # Through the services, so the one-per-county and region rules hold here too.
        try:
            if change:
                streams.update_channel(actor=request.user, channel=obj, name=obj.name, description=obj.description)
            else:
                created = streams.create_channel(actor=request.user, county=obj.county, name=obj.name,
                                                 description=obj.description)
                obj.pk = created.pk
            if "logo" in form.changed_data:
                obj.save(update_fields=["logo"])
        except DomainError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


class VerificationInline(_ReadOnlyInline):
    model = HostVerification
    fields = ("at", "action", "method", "note", "actor")
    readonly_fields = fields
    show_change_link = False


def _verify_action(method: str, label: str):  # noqa: ANN202
    def action(modeladmin, request, queryset) -> None:  # noqa: ANN001
        run_action(modeladmin, request, queryset,
             lambda host: streams.verify_host(actor=request.user, host=host, method=method, note="admin"),
             str(_("已认证")))

    action.__name__ = f"verify_{method}"
    return admin.action(description=label, permissions=["operator"])(action)


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "title", "channel", "is_public_servant", "verified_at", "verified_by",
                    "verification_method")
    list_filter = ("kind", "is_public_servant", "channel")
    search_fields = ("user__username", "user__display_name", "title")
    fields = ("user", "channel", "kind", "title", "is_public_servant", "bio", "trained_at", "verified_at",
              "verified_by", "verification_method")
    readonly_fields = ("user", "channel", "verified_at", "verified_by", "verification_method")
    inlines = [VerificationInline]
    actions = [_verify_action(m.value, _("实名认证：") + str(m.label)) for m in HostVerification.Method]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("user", "channel__county", "verified_by")
        return _scoped(qs, request.user, "channel__county")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # hosts are added on /live/manage/hosts/ (an existing account, a county channel)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_operator_permission(self, request: HttpRequest) -> bool:
        return policy.can(request.user, "live.operate")

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        try:
            streams.update_host(actor=request.user, host=obj, kind=obj.kind, title=obj.title, bio=obj.bio,
                                is_public_servant=obj.is_public_servant)
            if "trained_at" in form.changed_data:
                streams.record_host_training(actor=request.user, host=obj, trained_at=obj.trained_at)
        except DomainError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)


@admin.register(Stream)
class StreamAdmin(RecordAdmin):
    county_field = "channel__county"
    list_display = ("title", "channel", "host", "status", "planned_start", "started_at", "ended_at", "like_total",
                    "record_links")
    list_filter = ("status", "channel")
    search_fields = ("title", "host__user__username")
    date_hierarchy = "planned_start"
    readonly_fields = ("title", "description", "host", "channel", "planned_start", "planned_end", "status",
                       "started_at", "ended_at", "product_list", "slow_mode_seconds", "established_minutes",
                       "like_total", "records_purged_at", "created_by", "created_at", "record_links")
    fields = readonly_fields
    inlines = [TransitionInline, PinInline, AnnouncementInline, ModerationInline, MinuteInline]
    actions = ["end_streams", "cancel_streams"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("host__user", "channel")

    @admin.display(description=_("带货商品"))
    def product_list(self, obj: Stream) -> str:
        return "、".join(p.name for p in obj.products.all())

    @admin.display(description=_("记录"))
    def record_links(self, obj: Stream) -> str:
        links = [("live/chatmessage", _("弹幕")), ("live/report", _("举报")), ("live/viewersession", _("观众")),
                 ("live/gift", _("礼物")), ("live/roomrestriction", _("禁言/封禁"))]
        parts = [format_html('<a href="{}?stream__id__exact={}">{}</a>', reverse(f"admin:{m.replace('/', '_')}_changelist"),
                             obj.pk, label) for m, label in links]
        parts.append(format_html('<a href="{}">{}</a>', reverse("live:record", args=[obj.pk]), _("记录页")))
        return format_html(" · ".join(["{}"] * len(parts)), *parts)

    @admin.action(description=_("结束所选直播"), permissions=["operator"])
    def end_streams(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_action(self, request, queryset, lambda s: streams.end_stream(stream=s, actor=request.user, reason="admin"),
             str(_("已结束")))

    @admin.action(description=_("取消所选预告"), permissions=["operator"])
    def cancel_streams(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_action(self, request, queryset, lambda s: streams.cancel_stream(actor=request.user, stream=s, reason="admin"),
             str(_("已取消")))


@admin.register(ChatMessage)
class ChatMessageAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "user_name", "text", "original", "is_host", "status", "filter_hits")
    list_filter = ("status", "is_host")
    search_fields = ("text", "original", "user_name")
    readonly_fields = ("stream", "user", "user_name", "text", "original", "is_host", "status", "filter_hits",
                       "deleted_by", "deleted_at", "created_at")
    list_select_related = ("stream",)
    actions = ["delete_messages"]

    @admin.action(description=_("删除所选弹幕（记录保留）"), permissions=["operator"])
    def delete_messages(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_action(self, request, queryset.select_related("stream"),
             lambda m: moderation.delete_message(actor=request.user, stream=m.stream, message_id=m.pk, reason="admin"),
             str(_("已删除")))


@admin.register(Pin)
class PinAdmin(RecordAdmin):
    list_display = ("stream", "product", "pinned_at", "unpinned_at", "pinned_by")
    readonly_fields = ("stream", "product", "pinned_by", "pinned_at", "unpinned_at", "unpinned_by")


@admin.register(Announcement)
class AnnouncementAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "author", "text")
    readonly_fields = ("stream", "author", "text", "created_at")


@admin.register(RoomRestriction)
class RoomRestrictionAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "user", "kind", "until", "reason", "created_by", "lifted_at", "lifted_by")
    list_filter = ("kind",)
    readonly_fields = ("stream", "user", "kind", "until", "reason", "created_by", "created_at", "lifted_at",
                       "lifted_by")


@admin.register(ModerationAction)
class ModerationActionAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "actor_or_system", "action", "target_user", "reason")
    list_filter = ("action",)
    search_fields = ("reason", "target_user__username", "actor__username")
    readonly_fields = ("stream", "actor", "action", "target_user", "message", "reason", "details", "created_at")

    @admin.display(description=_("操作人"))
    def actor_or_system(self, obj: ModerationAction) -> str:
        return str(obj.actor) if obj.actor_id else str(_("系统"))


@admin.register(Report)
class ReportAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "reporter", "reason", "message", "target_user", "status", "handled_by")
    list_filter = ("status", "reason")
    readonly_fields = ("stream", "reporter", "message", "target_user", "reason", "note", "status", "handled_by",
                       "handled_at", "created_at")
    actions = ["mark_actioned", "mark_dismissed"]

    @admin.action(description=_("标记为已处理"), permissions=["operator"])
    def mark_actioned(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_action(self, request, queryset,
             lambda r: moderation.handle_report(actor=request.user, report_item=r, status=Report.Status.ACTIONED),
             str(_("已处理")))

    @admin.action(description=_("标记为不成立"), permissions=["operator"])
    def mark_dismissed(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_action(self, request, queryset,
             lambda r: moderation.handle_report(actor=request.user, report_item=r, status=Report.Status.DISMISSED),
             str(_("不成立")))


@admin.register(ViewerSession)
class ViewerSessionAdmin(RecordAdmin):
    list_display = ("stream", "viewer_key", "user", "first_seen", "last_seen")
    readonly_fields = ("stream", "viewer_key", "user", "first_seen", "last_seen")


@admin.register(StreamMinute)
class StreamMinuteAdmin(RecordAdmin):
    list_display = ("stream", "minute", "concurrent_viewers", "new_viewers", "chat_messages", "likes",
                    "product_clicks")
    readonly_fields = list_display


@admin.register(Gift)
class GiftAdmin(RecordAdmin):
    list_display = ("created_at", "stream", "user", "kind", "via", "refused", "reason")
    list_filter = ("refused", "via")
    readonly_fields = ("stream", "user", "kind", "via", "refused", "reason", "created_at")


@admin.register(StreamApproval)
class StreamApprovalAdmin(RecordAdmin):
    """The discipline-inspection office's decisions on officials' streams (made on /office/approvals/)."""

    list_display = ("decided_at", "stream", "decision", "approver", "reason", "voided_at")
    list_filter = ("decision",)
    readonly_fields = ("stream", "decision", "approver", "reason", "covers", "decided_at", "voided_at", "void_reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The office is region-scoped like the county staff, but is not county staff (county_staff_q).
        qs = StreamApproval.objects.select_related("stream", "approver")
        q = region_q(request.user, self.county_field)
        return qs if q is None else qs.filter(q)


@admin.register(StreamTransition)
class StreamTransitionAdmin(RecordAdmin):
    list_display = ("at", "stream", "from_status", "to_status", "actor", "reason")
    readonly_fields = ("stream", "from_status", "to_status", "actor", "reason", "at")


@admin.register(HostVerification)
class HostVerificationAdmin(RecordAdmin):
    county_field = "host__channel__county"
    list_display = ("at", "host", "action", "method", "actor", "note")
    list_filter = ("action", "method")
    readonly_fields = ("host", "action", "method", "note", "actor", "at")


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    """The editable word list. Saving goes through the service, which normalises the word and tells every
    server process to rebuild its automaton."""

    list_display = ("word", "normalized", "action", "category", "active", "created_by", "updated_at")
    list_filter = ("action", "active", "category")
    search_fields = ("word", "normalized")
    fields = ("word", "action", "category", "active")

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        try:
            saved = moderation.save_sensitive_word(actor=request.user, word=obj.word, action=obj.action,
                                                   category=obj.category, active=obj.active,
                                                   instance=obj if change else None)
            obj.pk = saved.pk
        except DomainError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)

    def delete_model(self, request, obj) -> None:  # noqa: ANN001
        moderation.delete_sensitive_word(actor=request.user, word=obj)

    def delete_queryset(self, request, queryset) -> None:  # noqa: ANN001
        for obj in queryset:
            moderation.delete_sensitive_word(actor=request.user, word=obj)

# The hosts' admin (identities, training, three-thirds marks) lives in its own module.
from . import admin_hosts  # noqa: E402, F401
