"""Character.revision: changed, in the same transaction, by everything that changes what the
API shows for a character, so the read cache (characters/read_cache.py) keyed on it can never
serve an outdated body, whichever worker process holds the entry.

What the representation of a character shows, and what bumps its revision:
- its own columns: Character.save() sets a new revision (characters/models.py);
- its handoff links: a HandoffTarget saved or deleted bumps its source (signals below);
  bulk_create and QuerySet.update() send no signals, so their callers call `bump()`
  (serializers/character.py, duplication.py, forms.py);
- each handoff target's slug and name: a Character saved bumps the characters handing off to
  it; deleted, it bumps them before the cascade removes the links (pre_delete below);
- its documents: a Document saved or deleted bumps its character (signals below);
  QuerySet.update() callers bump too (knowledge/tasks.py, knowledge/admin.py).

The owner being deactivated or deleted needs no bump: the read query checks the owner itself.
`rotate_fernet_keys` rewrites ciphertexts only; the decrypted values shown stay the same.
"""

import uuid

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from characters.models import Character, HandoffTarget
from knowledge.models import Document


def bump(ids=None, *, naming=None):
    """Give the characters `ids` (and those handing off to the character `naming`) a new
    revision: one UPDATE, inside the caller's transaction."""
    ids = {pk for pk in (ids or ()) if pk is not None}
    if naming is not None:
        ids.update(
            HandoffTarget.objects.filter(target_id=naming).values_list("source_id", flat=True)
        )
    if ids:
        Character.objects.filter(pk__in=ids).update(revision=uuid.uuid4())


@receiver(post_save, sender=Character)
def character_saved(sender, instance, raw=False, **kwargs):
    # Its own revision changed in save(); those showing its slug and name change here.
    if not raw and not kwargs.get("created"):
        bump(naming=instance.pk)


@receiver(pre_delete, sender=Character)
def character_deleted(sender, instance, **kwargs):
    bump(naming=instance.pk)


@receiver(post_save, sender=HandoffTarget)
@receiver(post_delete, sender=HandoffTarget)
def handoff_link_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        bump([instance.source_id])


@receiver(post_save, sender=Document)
@receiver(post_delete, sender=Document)
def document_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        bump([instance.character_id])
