"""Reading characters: their relations prefetched (a fixed number of queries whatever the
number of characters), the key's ciphertext left unread on reads that never show it; what
the public meets of one (its published version); a character as a version held it."""

import functools

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.db.models.query import ModelIterable

from characters import history, inline_rows
from characters.contributions import contributions
from characters.models import (
    WRITE_ONLY_KEYS,
    Character,
    CharacterQuerySet,
    CharacterVersion,
    HandoffTarget,
    Publishing,
)

# What the representation shows of each handoff link: its order and the target's slug, name;
# and the target's revision, part of the ETag (characters/api/versions.py, etag_of).
HANDOFF_LINKS = Prefetch(
    "handoff_links",
    queryset=HandoffTarget.objects.select_related("target").only(
        "source_id", "position", "target__slug", "target__name", "target__revision"
    ),
)


class CharacterReadQuerySet(CharacterQuerySet):
    """Characters for the API: see on_empty() and without_api_key()."""

    _on_empty = None
    _inline = ()

    def on_empty(self, callback):
        """Call `callback` whenever this queryset finds no row (fetch or count)."""
        clone = self._chain()
        clone._on_empty = callback
        return clone

    def inline(self, relations):
        """Read `relations` (inline_rows.Relation) in the characters' own statement."""
        clone = inline_rows.annotate(self._chain(), relations)
        clone._inline = relations
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._on_empty = self._on_empty
        clone._inline = self._inline
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is None
        super()._fetch_all()
        if fetched and self._inline and self._iterable_class is ModelIterable:
            inline_rows.unpack(self._result_cache, self._inline, self.db)
        if fetched and not self._result_cache and self._on_empty is not None:
            self._on_empty()

    def count(self):
        count = super().count()
        if count == 0 and self._on_empty is not None:
            self._on_empty()
        return count

    def without_api_key(self):
        return without_keys(self)


def without_keys(queryset):
    """Skip reading (and decrypting) the write-only keys; has_<key> comes from IS NOT NULL.

    The fields store an empty key as NULL, so "not null" is exactly "has a key".
    """
    return queryset.defer(*WRITE_ONLY_KEYS).annotate(
        **{
            f"{name}_is_set": ExpressionWrapper(
                Q(**{f"{name}__isnull": False}), output_field=BooleanField()
            )
            for name in WRITE_ONLY_KEYS
        }
    )


def characters_for_reading():
    """The characters with their handoff links and what other apps contribute to their
    representation (characters/contributions.py: documents), one query each for any number."""
    prefetches = [contribution.prefetch for contribution in contributions()]
    return CharacterReadQuerySet(model=Character).prefetch_related(HANDOFF_LINKS, *prefetches)


@functools.cache  # once the apps have contributed (characters/contributions.py)
def inline_relations():
    """What characters_for_reading() prefetches, as relations read inline."""
    links = inline_rows.Relation(
        Character,
        "handoff_links",
        fields=("id", "source_id", "target_id", "position"),
        joined={"target": ("id", "slug", "name", "revision")},
    )
    others = [inline_rows.Relation(Character, c.prefetch) for c in contributions()]
    return (links, *others)


def characters_for_writing():
    """characters_for_reading() in one statement: the relations it prefetches are read
    inline (characters/inline_rows.py). A write reads its character once, before it writes,
    and answers from what it read and wrote."""
    return CharacterReadQuerySet(model=Character).inline(inline_relations())


def characters_of_active_owners():
    """Characters whose owner's account is active: a deactivated owner's characters serve
    no one (the widget, calls, forms, knowledge-base search), as if they did not exist."""
    return Character.objects.filter(owner__is_active=True)


def public_characters():
    """What the public endpoints (the widget's fetch, session start and form submission) may
    serve: active characters of active owners only, so any other slug is their 404."""
    return characters_of_active_owners().filter(is_active=True)


# What deciding between the row and its published version reads of a character.
PUBLISHING_FIELDS = (
    "id",
    "owner_id",
    "organization_id",
    "publishing",
    "version",
    "published_version",
)


def public_character(slug, fields):
    """What the public meets of the character `slug`, loading only `fields` of the row when
    that is what is live (see published_of()); None when it meets nothing."""
    found = public_characters().only(*fields, *PUBLISHING_FIELDS).filter(slug=slug).first()
    return None if found is None else published_of(found)


def published_of(character):
    """What the public meets of `character`: itself while the newest version is the live one
    ("auto", or "manual" with nothing unpublished), else its published version in memory.
    None for a "manual" character never published, or whose published version was inactive."""
    if character.publishing == Publishing.AUTO or character.published_version == character.version:
        return character
    if character.published_version is None:
        return None
    version = CharacterVersion.objects.get(character=character, number=character.published_version)
    published = as_of_version(character, version)
    return published if published.is_active else None


def character_at(live, number):
    """What a call that started on version `number` of `live` runs: that version, whatever
    was published since (`live` itself while it is the newest); a session from before
    versions (None) runs what is published."""
    if number is None:
        return published_of(live) or live
    if number == live.version:
        return live
    version = CharacterVersion.objects.filter(character=live, number=number).first()
    return live if version is None else as_of_version(live, version)


def as_of_version(live, version):
    """An unsaved Character holding what `version` of `live` held. Its handoff targets are
    the organization's characters of those slugs as they are now (one query); one deleted since
    keeps its slug, with no name, inactive."""
    document = history.version_configuration(version)
    character = Character(
        pk=live.pk,
        owner_id=live.owner_id,
        organization_id=live.organization_id,
        slug=document["slug"],
        created_at=live.__dict__.get("created_at"),
        updated_at=version.created_at,
        version=version.number,
        publishing=live.publishing,
        published_version=live.published_version,
        **history.model_fields(document),
    )
    slugs = document["handoff_targets"]
    found = Character.objects.filter(organization_id=live.organization_id, slug__in=slugs).only(
        "slug", "name", "is_active"
    )
    targets = {target.slug: target for target in found}
    links = [
        HandoffTarget(
            position=position,
            target=targets.get(slug) or Character(slug=slug, name=None, is_active=False),
        )
        for position, slug in enumerate(slugs)
    ]
    character._prefetched_objects_cache = {"handoff_links": links}
    return character
