"""Writes on API keys: creation (the only moment the full key exists) and last use."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.organizations.selectors import membership

LAST_USED_RESOLUTION = timedelta(minutes=1)
CREATE_ATTEMPTS = 3  # a lookup-prefix collision (64 bits) is a retry, never a 500


def create_key(user, name, is_active=True, *, organization_id=None, role=None):
    """Store a new key's digest; returns (api_key, full_key). The full key is not kept.
    Without an organization, the creator's default one; without a role, the creator's there."""
    if organization_id is None:
        organization_id = user.default_organization_id
    if role is None:
        role = membership(user.pk, organization_id).role
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        full_key = keys.generate()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    user=user,
                    organization_id=organization_id,
                    role=role,
                    name=name,
                    is_active=is_active,
                    prefix=keys.lookup_prefix(full_key),
                    hashed_key=keys.digest(full_key),
                    key_preview=keys.preview(full_key),
                )
        except IntegrityError:
            if attempt == CREATE_ATTEMPTS:
                raise
        else:
            return api_key, full_key


def record_use(api_key):
    """Set last_used_at at most once a minute per key: busy keys cost no write per request.

    The conditional UPDATE lets only one of several concurrent requests write.
    """
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at >= stale:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
    ).update(last_used_at=now)
    api_key.last_used_at = now


def revoke(queryset):
    """The admin's revoke action: the keys stop working on their next request."""
    return queryset.filter(is_active=True).update(is_active=False)
