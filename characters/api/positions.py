"""Where the pages of an owner's list start, and its total, from Django's shared cache.

OFFSET and COUNT walk the owner's rows: at 10,000 characters, a page at offset 5,000 walked
5,020 index entries and its total 10,000 on every request, about 0.7 ms and 1 ms of
PostgreSQL each (make bench-scale), where the list at 100 characters costs nothing of the
kind. Per owner and `character_type` filter one entry keeps the total and the id of every
STEP-th character, newest first: a page at offset `o` starts at anchor `o // STEP` (an index
range condition) and walks at most STEP - 1 rows.

Invalidated as the widget cache is (characters/widget/cache.py): a per-owner token, read before
the database and replaced after every commit that saves or deletes one of the owner's
characters (characters/changes.py), so an entry built from older rows is never used. Writes
that bypass the change path (raw SQL) are bounded by POSITIONS_SECONDS. A stale anchor that no
longer exists matches nothing: the empty page falls back to the plain query. Only with a cache
shared by every process (Redis): one process's local memory would keep another process's list
positions after its writes.
"""

import logging
import uuid

from characters.api import versions
from characters.cache_tokens import POSITIONS_SECONDS
from characters.cache_tokens import positions_cache as shared_cache
from characters.cache_tokens import positions_token_key as token_key
from characters.models import Character

logger = logging.getLogger("oshara.cache")

STEP = 100
# Below this many characters COUNT and OFFSET cost nothing worth a second statement.
LONG_LIST = 1000


def entry_key(owner_id, character_type):
    kind = "all" if character_type is None else f"type={character_type}"
    return f"list-positions:1:{owner_id}:{kind}"


def find_page(owner_id, character_type, limit, offset):
    """The keys of a page of the owner's list and its total, as versions.find_page gives
    them: from the positions when the list is long and they are cached, else in its one
    statement (a long list's positions are then built for the next pages)."""
    cache = shared_cache()
    keys = (token_key(owner_id), entry_key(owner_id, character_type))
    try:
        found = cache.get_many(keys) if cache is not None else None
    except Exception:  # an optimisation only: the plain statement answers instead
        logger.warning("list positions unavailable", exc_info=True)
        found = None
    if found is None:
        return versions.find_page(owner_id, character_type, limit, offset)
    token, entry = found.get(keys[0]), found.get(keys[1])
    if token is not None and entry is not None and entry[0] == token:
        _, total, anchors = entry
        if anchors is not None:
            index, skip = divmod(offset, STEP)
            if index >= len(anchors):
                return [], total
            page = versions.find_page_from(owner_id, character_type, anchors[index], limit, skip)
            return page, total
        return versions.find_page(owner_id, character_type, limit, offset)
    # The token is taken before the rows are read: a write that commits meanwhile replaces
    # it, and what is stored below under the old one is never used.
    token = token or first_token(cache, keys[0])
    page, total = versions.find_page(owner_id, character_type, limit, offset)
    if token is not None and total is not None:  # an empty page tells no total
        remember(cache, keys[1], token, owner_id, character_type, total)
    return page, total


def first_token(cache, key):
    try:
        token = uuid.uuid4().hex
        if not cache.add(key, token, timeout=2 * POSITIONS_SECONDS):
            token = cache.get(key)
    except Exception:
        logger.warning("list positions unavailable", exc_info=True)
        return None
    return token


def remember(cache, key, token, owner_id, character_type, total):
    """Store the list's positions under the owner's token (a short list stores only that
    it is short: its statement costs no more)."""
    try:
        anchors = build(owner_id, character_type) if total >= LONG_LIST else None
        cache.set(key, (token, total, anchors), timeout=POSITIONS_SECONDS)
    except Exception:
        logger.warning("list positions not stored", exc_info=True)


def build(owner_id, character_type):
    characters = Character.objects.filter(owner_id=owner_id)
    if character_type is not None:
        characters = characters.filter(character_type=character_type)
    ids = characters.order_by(*versions.NEWEST_FIRST).values_list("pk", flat=True)
    return tuple(ids)[::STEP]
