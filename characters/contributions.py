"""What the apps built on characters add to a character: its API representation, its copy.

Such an app (knowledge: a character's documents) registers a read-only field here from its
AppConfig.ready(), with the prefetch that loads it for any number of characters in one query.
The representation (characters/api/serializers.py) shows every registered field before the
timestamps, and the reads (characters/selectors.py) prefetch them, so characters never imports
the apps above it (docs/architecture.md, "Between apps").

It registers too what copies its data of a character to a duplicate (on_duplicate()):
characters/duplication.py runs each in the duplicate's transaction.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Contribution:
    name: str
    # Returns a new read-only serializer field (a serializer field is bound to one parent).
    make_field: Any
    # What characters_for_reading() passes to prefetch_related() for it.
    prefetch: Any


_registered = {}


def contribute(name, make_field, *, prefetch):
    _registered[name] = Contribution(name, make_field, prefetch)


def contributions():
    return tuple(_registered.values())


_copiers = []


def on_duplicate(copy):
    """`copy(source, duplicate)` copies the app's data of `source` to its new `duplicate`."""
    if copy not in _copiers:
        _copiers.append(copy)


def copy_contributed(source, duplicate):
    for copy in _copiers:
        copy(source, duplicate)
