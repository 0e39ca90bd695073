"""A character duplicated: the API's POST …/duplicate/ and the admin's actions take this path.

The copy is a new character made of a version of the source (its newest by default): every
field of the configuration, its own copies of the files (a shared file would vanish with
whichever character is deleted first), the secrets encrypted anew, the handoff targets the
version names that still exist, and what the apps above keep of the source (knowledge: its
documents, chunks and embeddings), copied through `contributions.on_duplicate()`. It is
saved as its version 1 (source "duplicate") and announced once, as `character.duplicated`.
"""

import itertools
from dataclasses import replace
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import transaction

from characters import contributions, history, services
from characters.history import SYSTEM
from characters.models import WRITE_ONLY_KEYS, Character
from characters.version_models import Source

SLUG_MAX_LENGTH = Character._meta.get_field("slug").max_length


def copy_slug(slug):
    """The first free one of <slug>-copy, <slug>-copy-2, <slug>-copy-3, …"""
    for number in itertools.count(1):
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = slug[: SLUG_MAX_LENGTH - len(suffix)] + suffix
        if not Character.objects.filter(slug=candidate).exists():
            return candidate


def duplicate_character(
    source, *, slug=None, name=None, version=None, owner=None, with_key=True, change=SYSTEM
):
    """Save and return a copy of `source` made of its `version` (a CharacterVersion; None: the
    character as it is now), in the source's organization, as version 1 of the copy.

    `slug` None: the first free <slug>-copy…; `owner` None: the source's; `with_key` False
    leaves the write-only keys out (the admin's plain "Duplicate")."""
    document = (
        history.configuration(source) if version is None else history.version_configuration(version)
    )
    fields = history.model_fields(document)
    files = {name: fields.pop(name) for name in history.FILE_FIELDS}
    if not with_key:
        fields.update(dict.fromkeys(WRITE_ONLY_KEYS))
    if name is not None:
        fields["name"] = name
    duplicate = Character(
        slug=slug or copy_slug(source.slug),
        owner_id=owner.pk if owner is not None else source.owner_id,
        organization_id=source.organization_id,
        publishing=source.publishing,
        **fields,
    )
    for field_name, stored in files.items():
        if stored:
            setattr(duplicate, field_name, copied_file(getattr(source, field_name).storage, stored))
    with transaction.atomic():
        targets = services.handoff_targets_named(source.organization_id, document)
        number = source.version if version is None else version.number
        origin = {"slug": source.slug, "version": number}
        services.character_create(
            duplicate,
            handoff_targets=targets,
            change=replace(change, source=Source.DUPLICATE),
            event_data={"duplicated_from": origin},
        )
        contributions.copy_contributed(source, duplicate)
    return duplicate


def copied_file(storage, stored_name):
    """A new, unsaved file with the content of `stored_name`: the copy's save stores it under
    a name of its own (and a failed write removes it again, characters/signals.py)."""
    with storage.open(stored_name, "rb") as handle:
        return ContentFile(handle.read(), name=PurePath(stored_name).name)
