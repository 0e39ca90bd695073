"""One version per character: the key the read cache stores under is the key its ETag names.

A character's key is its id and revision plus, for each of its handoff links, (link id,
position, target id, target's revision): everything its representation shows changes one of
these in the writing transaction (characters/revisions.py). Each query below is ONE SQL
statement. A reader's statements read only the characters of an organization the (active)
token user is a member of, the one X-Organization names or their default, so a found key
also proves the user may read them (characters/api/authentication.py); an API key's read its
own organization's (its authentication checked the key, its creator and the membership).

The queries are written with the ORM and compiled to SQL once per shape (oshara/compiled.py):
building and compiling the queryset costs ~1 ms per read, running the compiled statement
~0.05 ms (measured on SQLite, 2,000 runs), and this statement is the whole cost of a cached
read.
"""

import functools
import hashlib

from django.db.models import BooleanField, Count, F, Subquery
from django.db.models.expressions import RawSQL
from rest_framework_simplejwt.settings import api_settings

from accounts.organizations.models import Membership
from characters.api.serializers import CharacterSerializer
from characters.models import Character
from oshara.compiled import Compiled
from oshara.http.conditional import version_etag

KEY_COLUMNS = (
    "pk",
    "revision",
    "handoff_links__id",
    "handoff_links__position",
    "handoff_links__target_id",
    "handoff_links__target__revision",
    # Not part of the key: the organization the statement proved the reader may act in.
    "organization_id",
)
ORGANIZATION_COLUMN = KEY_COLUMNS.index("organization_id")
NEWEST_FIRST = ("-created_at", "-pk")
# A deploy that changes what the representation shows must not let a client keep its copy
# through If-None-Match: the field list is part of every ETag.
REPRESENTATION = hashlib.sha256(",".join(CharacterSerializer.Meta.fields).encode()).hexdigest()
# Stand-ins compiled into the statements, replaced by each call's values.
USER, SLUG, TYPE, ANCHOR = -7_301_733_019, "\x00slug\x00", "\x00type\x00", -7_301_733_023
ORGANIZATION, ORGANIZATION_SLUG = -7_301_733_029, "\x00organization\x00"
STAND_INS = (USER, SLUG, TYPE, ANCHOR, ORGANIZATION, ORGANIZATION_SLUG)
# Whose characters a statement reads (`values` maps the stand-ins it names):
# the token user's default organization's, if they are a member and active;
DEFAULT = "default"
# the organization X-Organization names, if the token user is a member and active;
NAMED = "named"
# an organization already known to act in (an API key's).
KNOWN = "known"
to_uuid = Character._meta.get_field("revision").to_python


def compiled(queryset):
    return Compiled(queryset, dict.fromkeys(STAND_INS))


def readable(scope, character_type=False):
    """The characters `scope` reads (of the stand-in type)."""
    if scope == KNOWN:
        characters = Character.objects.filter(organization_id=ORGANIZATION)
    else:
        memberships = Membership.objects.filter(user_id=USER)
        if scope == NAMED:
            memberships = memberships.filter(organization__slug=ORGANIZATION_SLUG)
        else:
            memberships = memberships.filter(organization_id=F("user__default_organization_id"))
        if api_settings.CHECK_USER_IS_ACTIVE:
            memberships = memberships.filter(user__is_active=True)
        characters = Character.objects.filter(
            organization_id__in=memberships.values("organization_id")
        )
    return characters.filter(character_type=TYPE) if character_type else characters


@functools.cache
def one_statement(scope):
    return compiled(readable(scope).filter(slug=SLUG).values_list(*KEY_COLUMNS))


@functools.lru_cache(maxsize=256)  # limit and offset are compiled into the SQL
def page_statement(scope, character_type, limit, offset):
    characters = readable(scope, character_type)
    if limit is None:
        return compiled(characters.order_by(*NEWEST_FIRST).values_list(*KEY_COLUMNS))
    page = characters.order_by(*NEWEST_FIRST).values("pk")[offset : offset + limit]
    # The total rides along as a scalar subquery (one organization: one group): still one
    # statement.
    total = characters.order_by().values("organization").annotate(total=Count("pk")).values("total")
    return compiled(
        Character.objects.filter(pk__in=page)
        .annotate(total=Subquery(total))
        .order_by(*NEWEST_FIRST)
        .values_list(*KEY_COLUMNS, "total")
    )


# A page that starts at a known row (characters/api/positions.py): the row comparison is an
# index range condition on (organization, created_at, id), so OFFSET walks less than one STEP.
FROM_ANCHOR = RawSQL(
    f"(created_at, id) <= (SELECT created_at, id FROM {Character._meta.db_table} WHERE id = %s)",
    (ANCHOR,),
    output_field=BooleanField(),
)


@functools.lru_cache(maxsize=256)  # limit and offset are compiled into the SQL
def anchored_page_statement(scope, character_type, limit, offset):
    characters = readable(scope, character_type).filter(FROM_ANCHOR)
    page = characters.order_by(*NEWEST_FIRST).values("pk")[offset : offset + limit]
    return compiled(
        Character.objects.filter(pk__in=page).order_by(*NEWEST_FIRST).values_list(*KEY_COLUMNS)
    )


class Keys(list):
    """Keys in row order, and the organization their rows belong to (None when empty)."""

    organization_id = None


def keys(rows):
    """Keys [(id, revision, links)] in row order, from (KEY_COLUMNS..., *extra) rows."""
    found = {}
    for pk, revision, link, position, target, target_revision, *_ in rows:
        _, links = found.setdefault(pk, (to_uuid(revision), []))
        if link is not None:
            links.append((link, position, target, to_uuid(target_revision)))
    result = Keys((pk, revision, tuple(sorted(links))) for pk, (revision, links) in found.items())
    if rows:
        result.organization_id = rows[0][ORGANIZATION_COLUMN]
    return result


def find_one(scope, values, slug):
    """Keys holding the key of the character `slug` that `scope` (with its stand-ins'
    `values`) reads, or none."""
    return keys(one_statement(scope).rows({**values, SLUG: slug}))


class OtherOrganization(Exception):
    """The page's rows belong to another organization than the caller assumed."""


def check_organization(rows, organization_id):
    if organization_id is not None and any(
        row[ORGANIZATION_COLUMN] != organization_id for row in rows
    ):
        raise OtherOrganization


def find_page(scope, values, character_type, limit, offset, organization_id=None):
    """The keys of a list page (newest first) and the total; ([], None) when empty.
    OtherOrganization when `organization_id` is given and the rows are not its."""
    statement = page_statement(scope, character_type is not None, limit, offset)
    rows = statement.rows({**values, TYPE: character_type})
    check_organization(rows, organization_id)
    found = keys(rows)
    if limit is None:
        return found, len(found) or None
    return found, (rows[0][-1] if rows else None)


def find_page_from(scope, values, character_type, anchor, limit, offset, organization_id):
    """The keys of a list page `offset` rows after the character `anchor` (newest first):
    OtherOrganization when the rows are not `organization_id`'s."""
    statement = anchored_page_statement(scope, character_type is not None, limit, offset)
    rows = statement.rows({**values, TYPE: character_type, ANCHOR: anchor})
    check_organization(rows, organization_id)
    return keys(rows)


def find_pk(pk):
    """The key of character `pk` (whoever owns it), or None; not a hot path."""
    found = keys(Character.objects.filter(pk=pk).values_list(*KEY_COLUMNS))
    return found[0] if found else None


def etag(key):
    """The ETag of the version `key` names: the same through every host name."""
    pk, revision, links = key
    return version_etag(REPRESENTATION, pk, revision, *links)


def etag_of(character):
    """The ETag of `character` as it is in memory, read with its handoff links and their
    targets' revisions prefetched (characters/selectors.py) and saved since by the services,
    which keep that list: what current_etag() would read, without a query."""
    links = (
        (link.pk, link.position, link.target_id, link.target.revision)
        for link in character.handoff_links.all()
    )
    return etag((character.pk, character.revision, tuple(sorted(links))))


def current_etag(pk):
    """The ETag of character `pk` as it is now (in the caller's transaction)."""
    return etag(find_pk(pk))
