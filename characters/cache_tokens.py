"""The tokens that tell the caches a character changed.

A cached entry is stored with the token that was current when its reader started; replacing
the token makes every entry built under the old one unusable, including one a slow reader
writes back after the change (random tokens, not counters, so an evicted token is harmless):
- per slug, the widget's public readings (characters/widget/cache.py);
- per owner, the list positions (characters/api/positions.py), only in a cache every process
  shares.
Only the one change path replaces them (characters/changes.py), after the change commits.

A replacement the cache misses (Redis unreachable) would leave the old token, and the entries
under it, to be served once Redis is back; so it is remembered in the process and retried
until the cache answers (PENDING), within about a second of its return.
"""

import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

logger = logging.getLogger(__name__)

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


def positions_token_key(owner_id):
    return f"list-positions:{owner_id}:token"


def replace_widget_tokens(*slugs):
    """The next widget reading of each of `slugs` rebuilds from the database."""
    replace_tokens([widget_token_key(slug) for slug in slugs], widget_token_seconds())


def replace_positions_token(owner_id):
    """The next read of the owner's list positions rebuilds them."""
    if positions_cache() is not None:
        replace_tokens([positions_token_key(owner_id)], 2 * POSITIONS_SECONDS)


def replace_tokens(keys, timeout):
    """A new random token under each of `keys` in the default cache, now or, if the cache
    cannot be written, as soon as it can (PENDING)."""
    if not keys:
        return
    try:
        write_tokens(keys, timeout)
    except Exception:
        logger.warning("Cache unavailable; %d cache tokens are replaced later.", len(keys))
        PENDING.add(keys, timeout)


def write_tokens(keys, timeout):
    cache = caches["default"]
    # django-redis's IGNORE_EXCEPTIONS would report a lost write as done; its client raises.
    writer = cache.client if isinstance(cache, RedisCache) else cache
    writer.set_many({key: uuid.uuid4().hex for key in keys}, timeout=timeout)


RETRY_SECONDS = 0.5


class PendingTokens:
    """Token replacements that did not reach the cache, retried by one daemon thread that
    runs only while there are some. Nothing on the read path: readers never look here, the
    fresh token is what makes them rebuild."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}  # key -> (timeout, failures): a failure during a retry is kept
        self.thread = None

    def add(self, keys, timeout):
        with self.lock:
            for key in keys:
                self.keys[key] = (timeout, self.keys.get(key, (0, 0))[1] + 1)
            if self.thread is None:
                self.thread = threading.Thread(target=self.retry, name="cache-tokens", daemon=True)
                self.thread.start()

    def retry(self):
        while True:
            time.sleep(RETRY_SECONDS)
            with self.lock:
                pending = dict(self.keys)
            for key, (timeout, failures) in pending.items():
                try:
                    write_tokens([key], timeout)
                except Exception:
                    break  # still unreachable: all of them again later
                with self.lock:
                    if self.keys.get(key, (0, 0))[1] == failures:
                        del self.keys[key]
            with self.lock:
                if not self.keys:
                    self.thread = None
                    return


PENDING = PendingTokens()
