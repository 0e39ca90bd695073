"""The one change path: what follows every change to a character, in one place.

Every write of a character ends here, whoever makes it: Character.save() calls
record_change() (the API's create, PUT and PATCH in JSON or multipart, the admin, duplication,
a bulk update through services.update_characters(), a save in a shell), and so does the
delete signal (characters/signals.py), since Django's deletion collector is the one place
every delete passes, those cascaded from a deleted owner included. A bulk `QuerySet.update()`
of characters is refused (CharacterQuerySet): it would pass by. An owner deactivated or
reactivated changes what the public meets of all its characters: record_owner_activity_change().

What follows a change:
- in its transaction, the row's new `revision` (Character.save()): the version the API's read
  cache and ETags name (characters/api/versions.py);
- once it commits, each effect on its own, so a cache outage is logged and never fails a
  change that is already saved:
  - the widget cache is cleared: the token of the slug the row was read with and of its
    slug now is replaced (cache_tokens.replace_widget_tokens; read in characters/widget/cache.py);
  - the list positions of its old and new organization are cleared
    (cache_tokens.replace_positions_token; read in characters/api/positions.py).
- in its transaction too, the change is announced, once (oshara/outbox.py): the change feed
  records it with the change, or not at all. A save announces `character.created` or
  `character.updated`, a delete `character.deleted`, unless the service that saves says what
  the change is (`Announcement`: a publish, a restore, a duplicate) and which paths changed.
"""

from dataclasses import dataclass, field
from functools import partial

from django.db import transaction

from characters import cache_tokens
from oshara import outbox


@dataclass(frozen=True)
class Announcement:
    """What a service knows of its save that the save does not: the event's kind (None: created
    or updated, as the save is), the paths that changed, and more data for the event."""

    kind: str | None = None
    changed: list = field(default_factory=list)
    data: dict = field(default_factory=dict)


def record_change(character, kind="updated", announcement=None):
    """Register what follows a change of `character` (`kind`: created, updated or deleted) in
    this transaction; `announcement`: what the saving service says the change is."""
    announcement = announcement or Announcement()
    loaded = character.loaded_values
    outbox.announce(
        outbox.Change(
            type=f"character.{announcement.kind or kind}",
            organization_id=character.organization_id,
            subject_type="character",
            subject_id=character.pk,
            data={
                "slug": character.slug,
                "version": character.version,
                "published_version": character.published_version,
                "changed": list(announcement.changed),
                **announcement.data,
            },
        )
    )
    slugs = {loaded.get("slug"), character.slug} - {None}
    transaction.on_commit(partial(cache_tokens.replace_widget_tokens, *slugs), robust=True)
    for organization_id in {loaded.get("organization_id"), character.organization_id} - {None}:
        replace = partial(cache_tokens.replace_positions_token, organization_id)
        transaction.on_commit(replace, robust=True)
    character.remember_loaded_values()


def record_owner_activity_change(slugs):
    """The owner of the characters `slugs` was deactivated or reactivated: every public path
    serves them, or stops, once that commits (characters/signals.py follows the user)."""
    transaction.on_commit(partial(cache_tokens.replace_widget_tokens, *slugs), robust=True)
