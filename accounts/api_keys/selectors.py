"""Reads on API keys."""

from django.db.models import OuterRef, Subquery

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.organizations.models import Membership


def active_key(raw):
    """The active key `raw` of an active user who is still a member of the key's
    organization, with that user, the organization and the user's role there, in one
    indexed query; or None."""
    if not keys.is_well_formed(raw):
        return None
    creator_role = Membership.objects.filter(
        user_id=OuterRef("user_id"), organization_id=OuterRef("organization_id")
    ).values("role")
    candidates = (
        ApiKey.objects.select_related("user", "organization")
        .annotate(creator_role=Subquery(creator_role))
        .filter(
            prefix=keys.lookup_prefix(raw),
            is_active=True,
            user__is_active=True,
            creator_role__isnull=False,
        )
    )
    api_key = next(iter(candidates), None)
    if api_key is None or not keys.matches(raw, api_key.hashed_key):
        return None
    return api_key


def keys_of(organization_id):
    """The organization's keys, whoever created them (managing them takes an admin)."""
    return ApiKey.objects.filter(organization_id=organization_id)
