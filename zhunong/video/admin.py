"""Back office: ingests (never the key), refused publishes, recordings and replays, read-only."""

from django.contrib import admin

from .models import Chapter, Ingest, RefusedPublish, Replay


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Ingest)
class IngestAdmin(ReadOnly):
    list_display = ["stream", "state", "state_changed_at", "bitrate_kbps", "width", "height", "fps", "stats_at"]
    list_filter = ["state"]
    # The stream key is for the host's console only.
    exclude = ["stream_key", "key_digest"]


@admin.register(RefusedPublish)
class RefusedPublishAdmin(ReadOnly):
    list_display = ["at", "code", "stream", "publisher_addr", "source_addr", "app"]
    list_filter = ["code"]


class ChapterInline(admin.TabularInline):
    model = Chapter
    extra = 0
    can_delete = False
    readonly_fields = ["product", "start_s", "end_s", "pinned_at", "pin_id"]


@admin.register(Replay)
class ReplayAdmin(ReadOnly):
    list_display = ["stream", "status", "duration_s", "ready_at", "keep_until", "purged_at"]
    list_filter = ["status"]
    inlines = [ChapterInline]
