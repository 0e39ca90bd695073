"""One version per character: the key the read cache stores under is the key its ETag names.

A character's key is its id and revision plus, for each of its handoff links, (link id,
position, target id, target's revision): everything its representation shows changes one of
these in the writing transaction (characters/revisions.py). Each query below is ONE SQL
statement, and the owner's ones read only an active owner's characters, so a found key also
proves the token's user may read them (characters/api/authentication.py).

The queries are written with the ORM and compiled to SQL once per shape: building and
compiling the queryset costs ~1 ms per read, running the compiled statement ~0.05 ms
(measured on SQLite, 2,000 runs), and this statement is the whole cost of a cached read.
"""

import functools
import hashlib

from django.db import connections
from django.db.models import BooleanField, Count, Subquery
from django.db.models.expressions import RawSQL

from characters.api.authentication import token_owner_filter
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
# Stand-ins compiled into the statements, replaced by each call's values.
USER, SLUG, TYPE, ANCHOR = -7_301_733_019, "\x00slug\x00", "\x00type\x00", -7_301_733_023
STAND_INS = (USER, SLUG, TYPE, ANCHOR)
to_uuid = Character._meta.get_field("revision").to_python


class Compiled:
    """A queryset's SQL, compiled once with stand-in values, run with each call's."""

    def __init__(self, queryset):
        self.sql, params = queryset.query.sql_with_params()
        self.params = [param if param in STAND_INS else (param,) for param in params]

    def bind(self, values):
        """The parameters for this call: `values` maps each stand-in to its value."""
        return [
            values[param] if not isinstance(param, tuple) else param[0] for param in self.params
        ]

    def rows(self, values):
        with connections[Character.objects.db].cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            return cursor.fetchall()


def owned(character_type=False):
    """The stand-in user's characters (of the stand-in type)."""
    characters = Character.objects.filter(token_owner_filter(USER))
    return characters.filter(character_type=TYPE) if character_type else characters


@functools.cache
def one_statement():
    return Compiled(owned().filter(slug=SLUG).values_list(*KEY_COLUMNS))


@functools.lru_cache(maxsize=256)  # limit and offset are compiled into the SQL
def page_statement(character_type, limit, offset):
    characters = owned(character_type)
    if limit is None:
        return Compiled(characters.order_by(*NEWEST_FIRST).values_list(*KEY_COLUMNS))
    page = characters.order_by(*NEWEST_FIRST).values("pk")[offset : offset + limit]
    # The total rides along as a scalar subquery (one owner: one group): still one statement.
    total = characters.order_by().values("owner").annotate(total=Count("pk")).values("total")
    return Compiled(
        Character.objects.filter(pk__in=page)
        .annotate(total=Subquery(total))
        .order_by(*NEWEST_FIRST)
        .values_list(*KEY_COLUMNS, "total")
    )


# A page that starts at a known row (characters/api/positions.py): the row comparison is an
# index range condition on (owner, created_at, id), so OFFSET walks less than one STEP.
FROM_ANCHOR = RawSQL(
    f"(created_at, id) <= (SELECT created_at, id FROM {Character._meta.db_table} WHERE id = %s)",
    (ANCHOR,),
    output_field=BooleanField(),
)


@functools.lru_cache(maxsize=256)  # limit and offset are compiled into the SQL
def anchored_page_statement(character_type, limit, offset):
    characters = owned(character_type).filter(FROM_ANCHOR)
    page = characters.order_by(*NEWEST_FIRST).values("pk")[offset : offset + limit]
    return Compiled(
        Character.objects.filter(pk__in=page).order_by(*NEWEST_FIRST).values_list(*KEY_COLUMNS)
    )


def keys(rows):
    """[(id, revision, links)] in row order, from (KEY_COLUMNS..., *extra) rows."""
    found = {}
    for pk, revision, link, position, target, target_revision, *_ in rows:
        _, links = found.setdefault(pk, (to_uuid(revision), []))
        if link is not None:
            links.append((link, position, target, to_uuid(target_revision)))
    return [(pk, revision, tuple(sorted(links))) for pk, (revision, links) in found.items()]


def find_one(user_id, slug):
    """The key of the active user's character `slug`, or None."""
    found = keys(one_statement().rows({USER: user_id, SLUG: slug}))
    return found[0] if found else None


def find_page(user_id, character_type, limit, offset):
    """The keys of a list page (newest first) and the total; ([], None) when empty."""
    statement = page_statement(character_type is not None, limit, offset)
    rows = statement.rows({USER: user_id, TYPE: character_type})
    found = keys(rows)
    if limit is None:
        return found, len(found) or None
    return found, (rows[0][-1] if rows else None)


def find_page_from(user_id, character_type, anchor, limit, offset):
    """The keys of a list page `offset` rows after the character `anchor` (newest first)."""
    statement = anchored_page_statement(character_type is not None, limit, offset)
    return keys(statement.rows({USER: user_id, TYPE: character_type, ANCHOR: anchor}))


def find_pk(pk):
    """The key of character `pk` (whoever owns it), or None; not a hot path."""
    found = keys(Character.objects.filter(pk=pk).values_list(*KEY_COLUMNS))
    return found[0] if found else None


def etag(key):
    """The ETag of the version `key` names: the same through every host name."""
    pk, revision, links = key
    return version_etag(REPRESENTATION, pk, revision, *links)


def current_etag(pk):
    """The ETag of character `pk` as it is now (in the caller's transaction)."""
    return etag(find_pk(pk))
