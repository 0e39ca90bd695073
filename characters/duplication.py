"""Copying a character: a new slug, its own copies of the uploaded files, the same handoffs."""

import copy
import itertools
from pathlib import PurePath

from django.core.files import File

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
