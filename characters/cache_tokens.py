"""The tokens that tell the caches a character changed.

A cached entry is stored with the token that was current when its reader started; replacing
the token makes every entry built under the old one unusable, including one a slow reader
writes back after the change (random tokens, not counters, so an evicted token is harmless):
- per slug, the widget's public readings (characters/widget/cache.py);
- per organization, the list positions (characters/api/positions.py), only in a cache every process
  shares.
Only the one change path replaces them (characters/changes.py), after the change commits.
"""

import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

# How long "no such active character" is cached for the widget.
UNKNOWN_SLUG_SECONDS = 300
POSITIONS_SECONDS = 60


def widget_cache():
    return caches["default"]


def widget_token_key(slug):
    return f"widget:{slug}:token"


def widget_token_seconds():
    """Tokens outlive their entries (so an entry is not rebuilt early) but do expire: an
    unknown slug leaves nothing behind. A token that expired is replaced by a new random one,
    which no stored entry carries, so expiry never serves a stale entry."""
    return 2 * max(settings.WIDGET_APPEARANCE_CACHE_SECONDS, UNKNOWN_SLUG_SECONDS)


def positions_cache():
    """The default cache when every process sees the same one, else None: one process's
    local memory would keep another process's list positions after its writes."""
    cache = caches["default"]
    return None if isinstance(cache, LocMemCache | DummyCache) else cache


def positions_token_key(organization_id):
    return f"list-positions:org-{organization_id}:token"


def replace_widget_tokens(*slugs):
    """The next widget reading of each of `slugs` rebuilds from the database."""
    tokens = {widget_token_key(slug): uuid.uuid4().hex for slug in slugs}
    if tokens:
        widget_cache().set_many(tokens, timeout=widget_token_seconds())


def replace_positions_token(organization_id):
    """The next read of the organization's list positions rebuilds them."""
    if (cache := positions_cache()) is not None:
        key = positions_token_key(organization_id)
        cache.set(key, uuid.uuid4().hex, timeout=2 * POSITIONS_SECONDS)
