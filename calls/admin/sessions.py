"""Operators' view of calls: sessions per character, readable transcripts, runtime fetches.

Read-only, and never a secret: the session's mcp_headers show as header names only.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from calls.models import CallSession, RuntimeFetch
from calls.services import REPORTED_FIELDS, USAGE_FIELDS
from characters.schemas.masking import MASK


class RunningFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("running", "Running"), ("ended", "Ended"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        if self.value() == "running":
            return queryset.running()
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(ended_at__isnull=True).exclude(pk__in=queryset.running())
        return queryset


class RuntimeFetchInline(admin.TabularInline):
    model = RuntimeFetch
    verbose_name_plural = "runtime fetches"
    extra = 0
    can_delete = False
    fields = readonly_fields = ["fetched_at", "client_address", "user_agent"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CallSession)
class CallSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "character_slug",
        "owner",
        "started_at",
        "ended_at",
        "session_duration_seconds",
        "turn_count",
    ]
    list_filter = [RunningFilter, ("character", admin.RelatedOnlyFieldListFilter), "started_at"]
    list_select_related = ["owner"]
    search_fields = ["id", "character_slug", "owner__email", "room_name"]
    date_hierarchy = "started_at"
    inlines = [RuntimeFetchInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "number",
                    "character",
                    "character_slug",
                    "owner",
                    "started_by",
                    "origin_url",
                ]
            },
        ),
        ("Room", {"fields": ["room_name", "participant_identity"]}),
        ("Times", {"fields": ["started_at", "expires_at", "ended_at", "reported_at"]}),
        ("Overrides", {"fields": ["overrides", "mcp_header_names", "metadata"]}),
        ("Usage", {"fields": list(USAGE_FIELDS)}),
        ("What ran", {"fields": list(REPORTED_FIELDS)}),
        ("Transcript", {"fields": ["readable_transcript"]}),
    ]
    # Without the change permission every field is shown read-only; these are computed or
    # not editable.
    readonly_fields = ["number", "mcp_header_names", "readable_transcript"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="MCP headers")
    def mcp_header_names(self, session):
        names = session.mcp_headers or {}
        return ", ".join(f"{name}: {MASK}" for name in names) or "-"

    @admin.display(description="Transcript")
    def readable_transcript(self, session):
        if not session.transcript:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td style='white-space:pre-wrap'>{}</td></tr>",
            (
                (turn.get("turn_index", ""), turn.get("role", ""), turn.get("text", ""))
                for turn in session.transcript
            ),
        )
        return format_html(
            "<table><thead><tr><th>#</th><th>Role</th><th>Text</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )
