"""Reads on organizations and memberships."""

from django.contrib.auth import get_user_model

from accounts.organizations.models import Invitation, Membership, Organization


def default_organization_id(user_id):
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .values_list("default_organization_id", flat=True)
        .first()
    )


def is_member(user_id, organization_id):
    return Membership.objects.filter(user_id=user_id, organization_id=organization_id).exists()


def memberships_of(user):
    """The user's memberships with their organizations, by organization name."""
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def membership(user_id, organization_id):
    return Membership.objects.filter(user_id=user_id, organization_id=organization_id).first()


def organization(organization_id):
    return Organization.objects.get(pk=organization_id)


def members_of(organization_id):
    return Membership.objects.filter(organization_id=organization_id).select_related(
        "user", "organization"
    )


def pending_invitations(organization_id):
    return Invitation.objects.filter(
        organization_id=organization_id, accepted_at__isnull=True, revoked_at__isnull=True
    )


def slug_taken(slug):
    return Organization.objects.filter(slug=slug).exists()
