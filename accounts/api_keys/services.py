"""Writes on API keys: creation (the only moment the full key exists) and last use."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.organizations.selectors import membership
from oshara import outbox

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
                announce(api_key, "api_key.created")
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
    with transaction.atomic():
        revoked = list(queryset.filter(is_active=True).select_for_update())
        ApiKey.objects.filter(pk__in=[key.pk for key in revoked]).update(is_active=False)
        for api_key in revoked:
            announce(api_key, "api_key.revoked")
    return len(revoked)


def update_key(api_key, **changes):
    """Rename, deactivate or reactivate a key; deactivating it revokes it."""
    revoking = api_key.is_active and changes.get("is_active") is False
    with transaction.atomic():
        for name, value in changes.items():
            setattr(api_key, name, value)
        api_key.save()
        if revoking:
            announce(api_key, "api_key.revoked")
    return api_key


def delete_key(api_key):
    with transaction.atomic():
        announce(api_key, "api_key.revoked")
        api_key.delete()


def announce(api_key, type):
    """The key's event, in the current transaction; the key itself is never part of it."""
    outbox.announce(
        outbox.Change(
            type=type,
            organization_id=api_key.organization_id,
            subject_type="api_key",
            subject_id=api_key.pk,
            data={"id": str(api_key.pk), "name": api_key.name, "key_preview": api_key.key_preview},
        )
    )
