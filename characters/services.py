"""Copying a character: a new slug, its own copies of the uploaded files, the same handoffs."""

import copy
import itertools
from pathlib import PurePath

from django.core.files import File
from django.db import connections

from characters.models import Character, HandoffTarget

SLUG_MAX_LENGTH = Character._meta.get_field("slug").max_length
# Never copied field by field: identity, timestamps, the key (opt-in) and the files (copied).
NOT_COPIED = {"id", "slug", "created_at", "updated_at", "llm_api_key", "image", "voice_audio_file"}


def copy_slug(slug):
    """The first free one of <slug>-copy, <slug>-copy-2, <slug>-copy-3, …"""
    for number in itertools.count(1):
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = slug[: SLUG_MAX_LENGTH - len(suffix)] + suffix
        if not Character.objects.filter(slug=candidate).exists():
            return candidate


def duplicate_character(source, with_key=False):
    """Save and return a copy of `source` for the same owner. Documents are not copied: they
    belong to one character's knowledge base and are processed for it."""
    duplicate = Character(slug=copy_slug(source.slug))
    for field in Character._meta.concrete_fields:
        if field.name not in NOT_COPIED:
            setattr(duplicate, field.attname, copy.deepcopy(getattr(source, field.attname)))
    if with_key:
        duplicate.llm_api_key = source.llm_api_key
    for name in ("image", "voice_audio_file"):
        original = getattr(source, name)
        if original:
            # A shared file would vanish with whichever character is deleted first.
            with original.open("rb") as handle:
                name_only = PurePath(original.name).name
                getattr(duplicate, name).save(name_only, File(handle), save=False)
    duplicate.save()
    HandoffTarget.objects.bulk_create(
        HandoffTarget(source=duplicate, target_id=link.target_id, position=link.position)
        for link in source.handoff_links.all()
    )
    return duplicate


def lock_for_reference(queryset):
    """The rows a write is about to point at, share-locked until it commits.

    PostgreSQL's FOR KEY SHARE: a concurrent delete of one of them waits for our commit (and
    then removes our link too), while ordinary edits of those rows are not blocked, so two
    characters naming each other can be saved at once without a deadlock. A row deleted
    while we waited drops out of the result. Other databases serialise writes anyway.
    """
    rows = list(queryset)
    connection = connections[queryset.db]
    if not rows or connection.vendor != "postgresql" or not connection.in_atomic_block:
        return rows
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.pk.column)} = ANY(%s) FOR KEY SHARE",
            [[row.pk for row in rows]],
        )
        alive = {pk for (pk,) in cursor.fetchall()}
    return [row for row in rows if row.pk in alive]
