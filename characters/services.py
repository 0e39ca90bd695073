"""Every write of a character: the API, the admin, duplication (duplication.py) and restore
call these.

Here happen the things no caller may forget: PUT's reset of omitted fields, the handoff list
replaced as a whole, the version each change records (a write that changes nothing writes
nothing), a replaced upload removed once the write commits unless a version still shows it,
the rows a write points at share-locked. Each save and delete ends on the one change path
(characters/changes.py) by itself: Character.save() and the delete signal take it.
"""

from django.db import connections, transaction

from characters import history
from characters.changes import Announcement
from characters.history import SYSTEM
from characters.models import WRITE_ONLY_KEYS, Character, HandoffTarget, Publishing
from characters.signals import remove_unreferenced_files_on_commit

# A client cannot round-trip these, so a replacing update keeps them unless they are sent.
# `publishing` too: a PUT that omits it must not make every draft live.
KEPT_ON_REPLACE = {"image", "voice_audio_file", "publishing", *WRITE_ONLY_KEYS}


def character_create(
    character=None, *, handoff_targets=(), change=SYSTEM, event_data=None, **fields
):
    """Save a new character and its handoff targets (characters, in order), as version 1:
    the unsaved `character` a form has filled in (the admin's), or one made of `fields`.
    `event_data`: more data for its event (a duplicate's origin)."""
    if character is None:
        character = Character(**fields)
    slugs = [target.slug for target in handoff_targets]
    document = history.configuration(character, handoff_slugs=slugs)
    changed = history.changed_paths(None, document)
    character.version = 1
    live = character.publishing == Publishing.AUTO
    character.published_version = 1 if live else None
    character.save(
        force_insert=True, announcement=history.announcement(change, changed, event_data)
    )
    set_handoff_targets(character, handoff_targets)
    history.with_stored_file_names(document, character)
    history.record(character, document, changed, change, published=live)
    return character


def character_update(
    character, fields, *, handoff_targets=None, reset=(), change=SYSTEM, optimistic=False
):
    """Apply `fields` to a locked character and save it as its next version, or write
    nothing when they change nothing.

    `reset`: the names a replacing update (PUT) owns; those not in `fields` return to their
    model default, except KEPT_ON_REPLACE, and the handoff list is replaced even when omitted.
    `handoff_targets` None leaves the list as it is (a partial update that does not send it).
    `optimistic`: the character was read without a lock; its writes are one transaction of
    their own that saves only if the row still has the revision it was read with (StaleWrite
    otherwise, nothing written), so the version numbered from it is the next one.
    """
    before = history.configuration(character)
    # Not configuration, so in no version: who owns it, and what the public meets.
    kept_apart = (character.owner_id, character.publishing)
    fields = dict(fields)
    if reset:
        defaults = {field.name: field for field in Character._meta.concrete_fields}
        for name in reset:
            if name not in fields and name not in KEPT_ON_REPLACE and name in defaults:
                fields[name] = defaults[name].get_default()
        handoff_targets = handoff_targets or []
    replaced = [
        (old.storage, old.name)
        for name in KEPT_ON_REPLACE & fields.keys()
        if hasattr(old := getattr(character, name), "storage") and old.name != fields[name]
    ]
    for name, value in fields.items():
        setattr(character, name, value)
    slugs = None if handoff_targets is None else [target.slug for target in handoff_targets]
    after = history.configuration(character, handoff_slugs=slugs)
    changed = history.changed_paths(before, after)
    if not changed and (character.owner_id, character.publishing) == kept_apart:
        return character
    expected = character.loaded_values.get("revision") if optimistic else None
    # Everything above is Python on the row in memory; only the writes below hold a lock.
    with transaction.atomic(savepoint=optimistic):
        remove_unreferenced_files_on_commit(replaced)
        live = character.publishing == Publishing.AUTO
        if changed:
            character.version += 1
        newly_live = live and character.published_version != character.version
        if newly_live:
            character.published_version = character.version
        character.save(
            announcement=history.announcement(change, changed),
            expected_revision=expected,
            update_fields=written_columns(fields) if optimistic else None,
        )
        if handoff_targets is not None:
            set_handoff_targets(character, handoff_targets)
        if changed:
            history.with_stored_file_names(after, character)
            history.record(character, after, changed, change, published=live)
            history.prune(character)
        elif newly_live:  # back to "auto": the newest version is live from now on
            history.mark_published(character, character.version)
    return character


# What every save of a change writes besides the fields it was given.
ALWAYS_WRITTEN = {"version", "published_version", "updated_at"}
COLUMNS = {field.name for field in Character._meta.concrete_fields}


def written_columns(fields):
    """The columns an optimistic save writes: those it was given (no other write came in
    between, its revision says so), not every column (the encrypted ones encrypted again)."""
    return (fields.keys() | ALWAYS_WRITTEN) & COLUMNS


class AutoPublishing(Exception):
    """A character whose every version is live at once has nothing to publish."""


def publish(character, number, note=""):
    """Make version `number` of the locked, "manual" `character` what the public meets (an
    older one: a rollback), with the publisher's `note`. Records no version: the
    configuration does not change."""
    if character.publishing == Publishing.AUTO:
        raise AutoPublishing()
    character.published_version = number
    character.save(
        update_fields=["published_version"],
        announcement=Announcement("published", data={"note": note}),
    )
    history.mark_published(character, number, note)
    return character


def restore_version(character, version, change):
    """Make the locked `character` what its `version` was, as a new version (nothing when it
    already is). A handoff target deleted since is left out: it cannot be handed off to."""
    document = history.version_configuration(version)
    targets = handoff_targets_named(character.organization_id, document)
    return character_update(
        character, history.model_fields(document), handoff_targets=targets, change=change
    )


def handoff_targets_named(organization_id, document):
    """The characters a configuration hands off to, in its order, share-locked; those deleted
    since are left out (they cannot be handed off to)."""
    slugs = document["handoff_targets"]
    found = Character.objects.filter(organization_id=organization_id, slug__in=slugs)
    by_slug = {target.slug: target for target in lock_for_reference(found)}
    return [by_slug[slug] for slug in slugs if slug in by_slug]


def update_characters(queryset, change=SYSTEM, **fields):
    """Set `fields` on every character of `queryset`, each locked and saved through the change
    path (a bulk QuerySet.update() is refused: it would skip it). Returns how many."""
    with transaction.atomic():
        characters = list(locked_for_write(queryset.order_by("pk")))
        for character in characters:
            character_update(character, fields, change=change)
    return len(characters)


def character_delete(character):
    """Delete a (locked) character: its links and documents cascade, its files go on commit,
    and the delete takes the change path (characters/signals.py, for cascades too)."""
    character.delete()


def set_handoff_targets(character, targets):
    """Replace the character's handoff list by `targets`, in that order; returns the links,
    which the character's prefetched list now holds (its representation reads no more)."""
    HandoffTarget.objects.filter(source=character).delete()
    links = HandoffTarget.objects.bulk_create(
        HandoffTarget(source=character, target=target, position=position)
        for position, target in enumerate(targets)
    )
    prefetched = character.__dict__.get("_prefetched_objects_cache")
    if prefetched is not None and "handoff_links" in prefetched:
        prefetched["handoff_links"] = links
    return links


def locked_for_write(queryset, *, delete=False):
    """The queryset locking the rows it returns until the write commits.

    A delete takes FOR UPDATE; any other write FOR NO KEY UPDATE, since the key does not
    change, which leaves FOR KEY SHARE (lock_for_reference) free.
    """
    if delete:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update(no_key=True, of=("self",))


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
