"""The audit log in the admin: read-only, filterable; webhook endpoints and deliveries seen,
their secrets never shown."""

from django.contrib import admin, messages
from django.utils.translation import ngettext

from events import services
from events.models import Delivery, Event, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "type",
        "organization",
        "actor_type",
        "actor_label",
        "subject_type",
        "subject_id",
    )
    list_filter = ("type", "actor_type", "subject_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "=organization", "=subject_id", "actor_label", "=request_id")
    show_full_result_count = False  # the log grows without bound: no COUNT of all of it


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "url", "organization", "is_active", "disabled_at", "created_at")
    list_filter = ("is_active",)
    exclude = ("secret", "previous_secret")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "endpoint",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = ("status",)
    show_full_result_count = False
    actions = ["redeliver"]

    def has_redeliver_permission(self, request):
        # Sending again changes no record by hand: anyone who may see deliveries may.
        return self.has_view_permission(request)

    @admin.action(description="Redeliver selected deliveries", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.redeliver(delivery)
        count = len(queryset)
        message = ngettext("%d delivery queued again.", "%d deliveries queued again.", count)
        self.message_user(request, message % count, messages.SUCCESS)
