"""Reading characters: their relations prefetched (a fixed number of queries whatever the
number of characters), the key's ciphertext left unread on reads that never show it."""

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q

from characters.contributions import contributions
from characters.models import WRITE_ONLY_KEYS, Character, CharacterQuerySet, HandoffTarget

# What the representation shows of each handoff link: its order and the target's slug, name.
HANDOFF_LINKS = Prefetch(
    "handoff_links",
    queryset=HandoffTarget.objects.select_related("target").only(
        "source_id", "position", "target__slug", "target__name"
    ),
)


class CharacterReadQuerySet(CharacterQuerySet):
    """Characters for the API: see on_empty() and without_api_key()."""

    _on_empty = None

    def on_empty(self, callback):
        """Call `callback` whenever this queryset finds no row (fetch or count)."""
        clone = self._chain()
        clone._on_empty = callback
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._on_empty = self._on_empty
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is None
        super()._fetch_all()
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


def characters_of_active_owners():
    """Characters whose owner's account is active: a deactivated owner's characters serve
    no one (the widget, calls, forms, knowledge-base search), as if they did not exist."""
    return Character.objects.filter(owner__is_active=True)


def public_characters():
    """What the public endpoints (the widget's fetch, session start and form submission) may
    serve: active characters of active owners only, so any other slug is their 404."""
    return characters_of_active_owners().filter(is_active=True)
