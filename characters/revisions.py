"""What tells the read cache (characters/api/read_cache.py) that a character's representation may
have changed. Everything is in the database and changes in the writing transaction itself, so
no worker process can serve an outdated body.

The key the read query returns for a character is its own `revision` plus, for each of its
handoff links, (link id, position, target id, target's revision). So:
- its own columns: Character.save() sets a new revision (characters/models.py), including
  `save(update_fields=...)`; a bulk QuerySet.update() of characters is refused (the one
  change path, characters/changes.py, saves each row); no code updates characters with raw
  SQL except `rotate_fernet_keys`, which rewrites ciphertexts whose decrypted values (the
  ones shown) stay the same;
- its handoff links (added, removed, reordered, including bulk_create and the admin inline's
  QuerySet.update of positions) and each target's slug and name (the target's own save), and a
  target deleted (its links cascade away): all seen by the read query itself, nothing to bump;
- its documents: a Document saved or deleted bumps its character (knowledge/signals.py:
  knowledge depends on characters, never the reverse for receivers); QuerySet.update()
  sends no signal, so its callers call `bump()` (knowledge/tasks.py, knowledge/admin.py).

No write ever updates another character's row, so two characters naming each other can still
be saved at once without a deadlock (tests/test_races.py). A document write takes the lock on
its character's row *before* the one on the document row (pre_save / pre_delete, and the task
bumps first), the same order a character delete follows when it cascades to its documents.

The owner being deactivated or deleted needs no bump: the read query checks the owner itself.
"""

from characters.models import Character


def bump(ids):
    """Give the characters `ids` a new revision: one UPDATE, in the caller's transaction."""
    ids = {pk for pk in ids if pk is not None}
    if ids:
        Character.objects.filter(pk__in=ids).bump_revision()


def bump_characters_of(documents):
    """Bump the characters of a queryset of documents (before locking or updating them)."""
    bump(documents.order_by().values_list("character_id", flat=True))
