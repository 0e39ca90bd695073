"""Operators see each organization with its members and pending invitations (never a token:
only its digest is stored, and the admin does not show it)."""

from django.contrib import admin

from accounts.organizations import services
from accounts.organizations.models import Invitation, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    can_delete = False
    fields = (
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # an invitation's token is e-mailed by the API, to be seen once


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "is_personal", "created_at")
    list_filter = ("is_personal",)
    search_fields = ("slug", "name", "memberships__user__email")
    readonly_fields = ("created_at",)
    inlines = (MembershipInline, InvitationInline)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["slug", "is_personal"]  # as in the API: a slug does not change
        return readonly

    def save_formset(self, request, form, formset, change):
        """Members added, changed or removed here are in the audit log as through the API
        (in the admin's transaction); invitations are read-only."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        roles_before = {f.instance.pk: f.initial.get("role") for f in formset.initial_forms}
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.announce_member("member.removed", membership)
            membership.delete()
        for membership in memberships:
            membership.save()
        for membership in formset.new_objects:
            services.announce_member("member.joined", membership, invitation_id=None)
        for membership, changed in formset.changed_objects:
            previous = roles_before.get(membership.pk)
            if "role" in changed and previous != membership.role:
                services.announce_member("member.role_changed", membership, previous_role=previous)
        formset.save_m2m()
