"""The widget's fetch by slug, served from Django's cache: one round trip, no SQL on a hit.

Each slug has two keys, read together with one get_many:
- a *token*, replaced by a fresh random value every time the character changes (after the
  change commits);
- an *entry*: (token it was built under, allowed origins, JSON bytes of the merged appearance).

An entry counts only while its token is still the current one. A reader takes the token
*before* reading the database, so if a change commits while it is building the entry, the
token it labels the entry with is already outdated and the stale entry is never served; a
plain delete-on-commit could be undone by such a reader writing old data back after the delete.
Random tokens (not counters) stay safe when the cache evicts a token key.
"""

import hashlib
import json
import logging
import uuid

from django.conf import settings
from django.core.cache import caches

from characters.selectors import public_characters
from characters.widget import defaults as appearance
from characters.widget.origins import allowed_origin_set

logger = logging.getLogger(__name__)

# Entries built by another version of the defaults or payload shape are never read.
PAYLOAD_VERSION = hashlib.sha256(
    json.dumps(
        [2, appearance.DEFAULT_APPEARANCE, appearance.DEFAULT_FORM, appearance.DEFAULT_FORM_FIELD],
        sort_keys=True,
    ).encode()
).hexdigest()[:12]
UNKNOWN_SLUG_SECONDS = 300

# All the fetch reads of the row; the prompt, keys and tools are never even loaded.
PUBLIC_FIELDS = ("slug", "widget_appearance", "allowed_origins")


def token_key(slug):
    return f"widget-appearance:{slug}:token"


def entry_key(slug):
    return f"widget-appearance:{PAYLOAD_VERSION}:{slug}"


def get_cache():
    return caches["default"]


def lookup(slug):
    """(allowed origins, JSON body) for a slug, or None if there is no such active character."""
    keys = (token_key(slug), entry_key(slug))
    try:
        found = get_cache().get_many(keys)
    except Exception:
        logger.warning("Cache unavailable; serving the widget appearance from the database.")
        return result(build_entry(slug, token=None))
    token, entry = found.get(keys[0]), found.get(keys[1])
    if token is not None and entry is not None and entry[0] == token:
        return result(entry)
    return fill(slug, token)


def result(entry):
    return None if entry[2] is None else entry[1:]


def fill(slug, token):
    cache = get_cache()
    try:
        if token is None:
            token = uuid.uuid4().hex
            if not cache.add(token_key(slug), token, timeout=token_seconds()):
                token = cache.get(token_key(slug)) or token
    except Exception:
        logger.warning("Cache unavailable; serving the widget appearance from the database.")
        return result(build_entry(slug, token=None))
    entry = build_entry(slug, token)
    known = entry[2] is not None
    timeout = settings.WIDGET_APPEARANCE_CACHE_SECONDS if known else UNKNOWN_SLUG_SECONDS
    try:
        cache.set(entry_key(slug), entry, timeout=timeout)
    except Exception:
        logger.warning("Cache unavailable; the widget appearance of %r was not cached.", slug)
    return result(entry)


def build_entry(slug, token):
    # An inactive character is cached as unknown: the widget sees the same 404. Its signal
    # invalidates the entry when it is switched back on.
    character = public_characters().only(*PUBLIC_FIELDS).filter(slug=slug).first()
    if character is None:
        return (token, None, None)
    payload = appearance.merged_appearance(character.widget_appearance)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return (token, allowed_origin_set(character.allowed_origins), body)


def token_seconds():
    """Tokens outlive their entries (so an entry is not rebuilt early) but do expire: an
    unknown slug leaves nothing behind. A token that expired is replaced by a new random one,
    which no stored entry carries, so expiry never serves a stale entry."""
    return 2 * max(settings.WIDGET_APPEARANCE_CACHE_SECONDS, UNKNOWN_SLUG_SECONDS)


def invalidate(slug):
    """Make the next fetch rebuild from the database. Call it after the change has committed."""
    get_cache().set(token_key(slug), uuid.uuid4().hex, timeout=token_seconds())
