"""Reads of the audit log: newest first within a scope, a page at a time by cursor (no
total: the log grows without bound, and a COUNT would read all of it).

A page is one statement, compiled once per shape of query (which filters, the limit) with
stand-ins for each call's values (oshara/compiled.py): building the queryset cost more than
running it (bench/webhooks.py, the audit log phase).
"""

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
from django.db.models import CharField, F, Q, Subquery
from django.db.models.functions import Cast
from rest_framework_simplejwt.settings import api_settings

from accounts.organizations import roles
from accounts.organizations.models import Membership
from events.models import Event
from oshara.compiled import Compiled, as_datetime, columns, like_prefix

# The roles whose members read the log (DESIGN.md's role table).
READERS = [role for role in roles.Role if roles.may(role, roles.MANAGE)]
COLUMNS = columns(Event)


class Entry(NamedTuple("Row", [(name, object) for name in COLUMNS])):
    """An event of a page as its row: what EventSerializer reads of an Event, without
    building the model (a model instance per row was an eighth of a page's time). Its `data`
    is the stored JSON text as an orjson.Fragment, which the view's renderer embeds as it is:
    decoding it and encoding it again was a sixth of a page's time (bench/README.md)."""

    __slots__ = ()
    # The model's properties read only the columns.
    actor = Event.actor
    subject = Event.subject


# Stand-ins for each call's values in the compiled statements.
SCOPE, SLUG, USER = "\x00scope\x00", "\x00organization\x00", -7_301_733_041
TYPE, LAST_ID = "\x00type\x00", "\x00event\x00"
SUBJECT_TYPE, SUBJECT_ID = "\x00subject type\x00", "\x00subject id\x00"
ACTOR_TYPE, ACTOR_ID = "\x00actor type\x00", "\x00actor id\x00"
SINCE, UNTIL, LAST_AT = (datetime(1111, 1, 1, 0, 0, second, tzinfo=UTC) for second in (1, 2, 3))


class BadCursor(ValueError):
    pass


def encode_cursor(event):
    raw = f"{event.created_at.isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, event_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(created_at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor from None
    # Only what encode_cursor() writes: an aware time a database can compare.
    if created_at.tzinfo is None or created_at.year < 2 or len(event_id) > 40:
        raise BadCursor
    return created_at, event_id


class Shape(NamedTuple):
    """What a page's statement is compiled for."""

    reader: str  # "scope", "default" or "named" (Reader)
    type: str | None  # "prefix" or "exact"
    subject: int  # 0, 1 (a type) or 2 (a type and an id)
    actor: int
    since: bool
    until: bool
    cursor: bool
    limit: int


@dataclass(frozen=True)
class Reader:
    """A token's user, not yet checked: the page holds the log of the organization `slug`
    names (else their default one) only if they are an active member of it with a role that
    reads it. The check is a subquery of the page's one statement, so an empty page says
    nothing about the caller: the view then checks them the usual way."""

    user_id: int
    slug: str | None


def scope_condition(kind):
    """The events of the stand-in scope, or of the one a Reader of this kind may read."""
    if kind == "scope":
        return Q(organization=SCOPE)
    memberships = Membership.objects.filter(user_id=USER, role__in=READERS)
    if kind == "default":
        memberships = memberships.filter(organization_id=F("user__default_organization_id"))
    else:
        memberships = memberships.filter(organization__slug=SLUG)
    if api_settings.CHECK_USER_IS_ACTIVE:
        memberships = memberships.filter(user__is_active=True)
    # A scope is the organization's id as text (events/scope.py); as a scalar subquery it is
    # computed once, and the page is one range of the (organization, created_at, id) index.
    scope = memberships.annotate(scope=Cast("organization_id", CharField())).values("scope")
    return Q(organization=Subquery(scope[:1]))


def pair_filter(parts, type_field, id_field, type_stand_in, id_stand_in):
    """A subject's (or actor's) type, and its id when `parts` is 2 (pair())."""
    condition = Q(**{type_field: type_stand_in})
    return condition & Q(**{id_field: id_stand_in}) if parts == 2 else condition


@functools.lru_cache(maxsize=512)
def page_statement(shape):
    events = Event.objects.filter(scope_condition(shape.reader))
    if shape.type == "prefix":
        events = events.filter(type__startswith=TYPE)
    elif shape.type == "exact":
        events = events.filter(type=TYPE)
    if shape.subject:
        events = events.filter(
            pair_filter(shape.subject, "subject_type", "subject_id", SUBJECT_TYPE, SUBJECT_ID)
        )
    if shape.actor:
        events = events.filter(
            pair_filter(shape.actor, "actor_type", "actor_id", ACTOR_TYPE, ACTOR_ID)
        )
    if shape.since:
        events = events.filter(created_at__gte=SINCE)
    if shape.until:
        events = events.filter(created_at__lt=UNTIL)
    if shape.cursor:
        # The first condition is implied by the second; it bounds the index range scan
        # (organization, -created_at, -id), which the OR alone cannot: without it a page
        # N events deep reads the N before it.
        events = events.filter(created_at__lte=LAST_AT).filter(
            Q(created_at__lt=LAST_AT) | Q(created_at=LAST_AT, id__lt=LAST_ID)
        )
    events = events.order_by("-created_at", "-id").values_list(*COLUMNS)[: shape.limit + 1]
    at = as_datetime(events)
    stand_ins = dict.fromkeys([SCOPE, SLUG, USER, SUBJECT_TYPE, SUBJECT_ID, ACTOR_TYPE])
    stand_ins.update({ACTOR_ID: None, LAST_ID: None, SINCE: at, UNTIL: at, LAST_AT: at})
    stand_ins[TYPE] = like_prefix(events) if shape.type == "prefix" else None
    return Compiled(events, stand_ins, load_with={"data": orjson.Fragment})


def type_pattern(pattern):
    """`character.*` (or `character.`) is a prefix; anything else one type."""
    if pattern.endswith(".*"):
        return "prefix", pattern[:-1]
    if pattern.endswith("."):
        return "prefix", pattern
    return "exact", pattern


def pair(value):
    """`character:12` is one subject (or actor): (2, type, id); `character` every one of
    that type: (1, type, None); none: (0, None, None)."""
    if not value:
        return 0, None, None
    kind, _, identifier = value.partition(":")
    return (2, kind, identifier) if identifier else (1, kind, None)


def events_page(
    reader, *, limit, cursor=None, type=None, subject=None, actor=None, since=None, until=None
):
    """Up to `limit` events of `reader` (a scope, or a Reader) and whether more follow."""
    if isinstance(reader, str):
        kind, values = "scope", {SCOPE: reader}
    else:
        kind = "named" if reader.slug is not None else "default"
        values = {USER: reader.user_id, SLUG: reader.slug}
    type_kind, values[TYPE] = type_pattern(type) if type else (None, None)
    subject_parts, values[SUBJECT_TYPE], values[SUBJECT_ID] = pair(subject)
    actor_parts, values[ACTOR_TYPE], values[ACTOR_ID] = pair(actor)
    values[SINCE], values[UNTIL] = since, until
    values[LAST_AT], values[LAST_ID] = cursor or (None, None)
    shape = Shape(
        kind, type_kind, subject_parts, actor_parts, bool(since), bool(until), bool(cursor), limit
    )
    statement = page_statement(shape)
    page = [Entry(*row) for row in statement.converted_rows(values)]
    return page[:limit], len(page) > limit
