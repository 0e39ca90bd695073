"""Reads on API keys."""

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey


def active_key(raw):
    """The active key `raw` of an active user, with that user, in one indexed query; or None."""
    if not keys.is_well_formed(raw):
        return None
    candidates = ApiKey.objects.select_related("user").filter(
        prefix=keys.lookup_prefix(raw), is_active=True, user__is_active=True
    )
    api_key = next(iter(candidates), None)
    if api_key is None or not keys.matches(raw, api_key.hashed_key):
        return None
    return api_key


def keys_of(user):
    return ApiKey.objects.filter(user=user)
