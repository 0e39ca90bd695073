"""One version per character: the key the read cache stores under is the key its ETag names.

A character's key is its id and revision plus, for each of its handoff links, (link id,
position, target id, target's revision): everything its representation shows changes one of
these in the writing transaction (characters/revisions.py). Each query below is ONE SQL
statement, and reads the keys only of an active owner's characters, so a found key also
proves the token's user may read them (characters/api/authentication.py).
"""

import hashlib

from django.db.models import Count, Subquery

from characters.api.serializers import CharacterSerializer
from characters.models import Character
from oshara.http.conditional import version_etag

KEY_COLUMNS = (
    "pk",
    "revision",
    "handoff_links__id",
    "handoff_links__position",
    "handoff_links__target_id",
    "handoff_links__target__revision",
)
NEWEST_FIRST = ("-created_at", "-pk")
# A deploy that changes what the representation shows must not let a client keep its copy
# through If-None-Match: the field list is part of every ETag.
REPRESENTATION = hashlib.sha256(",".join(CharacterSerializer.Meta.fields).encode()).hexdigest()


def owned(owner_condition, character_type=None):
    """The characters of `owner_condition` (a Q that also requires the owner to be active)."""
    characters = Character.objects.filter(owner_condition)
    if character_type is not None:
        characters = characters.filter(character_type=character_type)
    return characters


def keys(rows):
    """[(id, revision, links)] in row order, from (KEY_COLUMNS..., *extra) rows."""
    found = {}
    for pk, revision, link, position, target, target_revision, *_ in rows:
        _, links = found.setdefault(pk, (revision, []))
        if link is not None:
            links.append((link, position, target, target_revision))
    return [(pk, revision, tuple(sorted(links))) for pk, (revision, links) in found.items()]


def find_one(owner_condition, slug):
    """The key of the owner's character `slug`, or None."""
    found = keys(owned(owner_condition).filter(slug=slug).values_list(*KEY_COLUMNS))
    return found[0] if found else None


def find_pk(pk):
    """The key of character `pk` (whoever owns it), or None."""
    found = keys(Character.objects.filter(pk=pk).values_list(*KEY_COLUMNS))
    return found[0] if found else None


def find_page(owner_condition, character_type, limit, offset):
    """The keys of a list page (newest first) and the total; ([], None) when empty."""
    characters = owned(owner_condition, character_type)
    if limit is None:
        rows = characters.order_by(*NEWEST_FIRST).values_list(*KEY_COLUMNS)
        found = keys(rows)
        return found, len(found) or None
    page = characters.order_by(*NEWEST_FIRST).values("pk")[offset : offset + limit]
    # The total rides along as a scalar subquery (one owner: one group): still one statement.
    total = characters.order_by().values("owner").annotate(total=Count("pk")).values("total")
    rows = list(
        Character.objects.filter(pk__in=page)
        .annotate(total=Subquery(total))
        .order_by(*NEWEST_FIRST)
        .values_list(*KEY_COLUMNS, "total")
    )
    return keys(rows), (rows[0][-1] if rows else None)


def etag(key):
    """The ETag of the version `key` names: the same through every host name."""
    pk, revision, links = key
    return version_etag(REPRESENTATION, pk, revision, *links)


def current_etag(pk):
    """The ETag of character `pk` as it is now (in the caller's transaction)."""
    return etag(find_pk(pk))
