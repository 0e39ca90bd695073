"""Reads of the audit log: newest first within a scope, a page at a time by cursor (no
total: the log grows without bound, and a COUNT would read all of it)."""

import base64
import binascii
from datetime import datetime

from django.db.models import Q

from events.models import Event


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


def type_filter(pattern):
    """`character.*` (or `character.`) is a prefix; anything else one type."""
    if pattern.endswith(".*"):
        return Q(type__startswith=pattern[:-1])
    if pattern.endswith("."):
        return Q(type__startswith=pattern)
    return Q(type=pattern)


def pair_filter(value, type_field, id_field):
    """`character:12` is one subject (or actor), `character` every one of that type."""
    kind, _, identifier = value.partition(":")
    condition = Q(**{type_field: kind})
    return condition & Q(**{id_field: identifier}) if identifier else condition


def events_page(
    organization, *, limit, cursor=None, type=None, subject=None, actor=None, since=None, until=None
):
    """Up to `limit` events and whether more follow."""
    events = Event.objects.filter(organization=organization)
    if type:
        events = events.filter(type_filter(type))
    if subject:
        events = events.filter(pair_filter(subject, "subject_type", "subject_id"))
    if actor:
        events = events.filter(pair_filter(actor, "actor_type", "actor_id"))
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    if cursor:
        created_at, event_id = cursor
        # The first condition is implied by the second; it bounds the index range scan
        # (organization, -created_at, -id), which the OR alone cannot: without it a page
        # N events deep reads the N before it.
        events = events.filter(created_at__lte=created_at).filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=event_id)
        )
    page = list(events.order_by("-created_at", "-id")[: limit + 1])
    return page[:limit], len(page) > limit
