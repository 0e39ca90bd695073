"""What the widget's public endpoints read of a character, from Django's cache by slug: one
round trip, no SQL on a hit.

Each public endpoint reads its own *projection* of an active character (the appearance fetch:
its merged appearance; session start: its prompt and greeting) and every projection also
carries the allowed origins, which gate them all. Per slug there are:
- one *token*, shared by every projection, replaced by a fresh random value every time the
  character changes (after the change commits: characters/changes.py, cache_tokens.py, which
  also retries a replacement Redis missed until it is back);
- one *entry* per projection: (token it was built under, allowed origins, value).

An entry counts only while its token is still the current one. A reader takes the token
*before* reading the database, so if a change commits while it is building the entry, the
token it labels the entry with is already outdated and the stale entry is never served; a
plain delete-on-commit could be undone by such a reader writing old data back after the delete.
Random tokens (not counters) stay safe when the cache evicts a token key.

`keys(slug)` lets a caller fetch the two keys in a round trip it makes anyway (the throttle's,
oshara/http/throttling.py) and hand them to `lookup(slug, found)`.
"""

import hashlib
import json
import logging
import uuid

from django.conf import settings

from characters.cache_tokens import UNKNOWN_SLUG_SECONDS
from characters.cache_tokens import widget_cache as get_cache
from characters.cache_tokens import widget_token_key as token_key
from characters.cache_tokens import widget_token_seconds as token_seconds
from characters.selectors import public_character
from characters.widget import defaults as appearance
from characters.widget.origins import allowed_origin_set

logger = logging.getLogger(__name__)

UNAVAILABLE = "Cache unavailable; serving the %s of %r from the database."


class PublicProjection:
    """One cached reading of an active character by slug: `fields` are all it loads of the
    row (never a key or a tool), `build(character)` turns them into the cached value."""

    def __init__(self, name, fields, build, *, version):
        self.name, self.fields, self.build = name, tuple(fields), build
        # Entries built by another version of the value's shape or fields are never read.
        self.version = hashlib.sha256(
            json.dumps([version, self.fields], sort_keys=True).encode()
        ).hexdigest()[:12]

    def entry_key(self, slug):
        return f"widget-{self.name}:{self.version}:{slug}"

    def keys(self, slug):
        return (token_key(slug), self.entry_key(slug))

    def lookup(self, slug, found=None):
        """(allowed origins, value) for a slug, or None if there is no such active character.
        `found`: the cache's answer for `keys(slug)` when the caller already read them."""
        keys = self.keys(slug)
        if found is None:
            try:
                found = get_cache().get_many(keys)
            except Exception:
                logger.warning(UNAVAILABLE, self.name, slug)
                return result(self.build_entry(slug, token=None))
        token, entry = found.get(keys[0]), found.get(keys[1])
        if token is not None and entry is not None and entry[0] == token:
            return result(entry)
        return self.fill(slug, token)

    def fill(self, slug, token):
        cache = get_cache()
        try:
            if token is None:
                token = uuid.uuid4().hex
                if not cache.add(token_key(slug), token, timeout=token_seconds()):
                    token = cache.get(token_key(slug)) or token
        except Exception:
            logger.warning(UNAVAILABLE, self.name, slug)
            return result(self.build_entry(slug, token=None))
        entry = self.build_entry(slug, token)
        known = entry[2] is not None
        timeout = settings.WIDGET_APPEARANCE_CACHE_SECONDS if known else UNKNOWN_SLUG_SECONDS
        try:
            cache.set(self.entry_key(slug), entry, timeout=timeout)
        except Exception:
            logger.warning("Cache unavailable; the %s of %r was not cached.", self.name, slug)
        return result(entry)

    def build_entry(self, slug, token):
        # An inactive character is cached as unknown: the widget sees the same 404. Switching
        # it back on is a change, which replaces the token (characters/changes.py); so is a
        # publish, for a "manual" character, whose published version is what is read here.
        character = public_character(slug, {"allowed_origins", *self.fields})
        if character is None:
            return (token, None, None)
        return (token, allowed_origin_set(character.allowed_origins), self.build(character))


def result(entry):
    return None if entry[2] is None else entry[1:]


def appearance_body(character):
    payload = appearance.merged_appearance(character.widget_appearance)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# The fetch's JSON bytes; the version changes with the defaults the body is merged with.
APPEARANCE = PublicProjection(
    "appearance",
    ("slug", "widget_appearance"),
    appearance_body,
    version=[
        2,
        appearance.DEFAULT_APPEARANCE,
        appearance.DEFAULT_FORM,
        appearance.DEFAULT_FORM_FIELD,
    ],
)
