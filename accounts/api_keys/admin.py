"""Operators see keys by name, owner and preview, and revoke them; never a full key or digest."""

from django.contrib import admin, messages

from accounts.api_keys import services
from accounts.api_keys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "user",
        "role",
        "key_preview",
        "is_active",
        "last_used_at",
        "created_at",
    )
    list_filter = ("is_active", ("organization", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("name", "user__email", "organization__slug", "key_preview")
    list_select_related = ("user", "organization")
    fields = (
        "name",
        "organization",
        "user",
        "role",
        "key_preview",
        "is_active",
        "created_at",
        "last_used_at",
    )
    readonly_fields = ("organization", "user", "key_preview", "created_at", "last_used_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False  # a key is created by its owner, who alone sees it (POST /api/auth/api-keys/)

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = services.revoke(queryset)
        self.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)
