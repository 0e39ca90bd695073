"""Where an app announces a change inside the change's own transaction.

The apps announce (characters on their one change path, calls, knowledge and accounts in
their services); the app above them all that keeps the change feed (events) registers what
records an announcement from its AppConfig.ready(). So no app imports the one above it
(docs/architecture.md, "Between apps"), and the record is written in the same transaction
as the change: a rolled-back change leaves none, a committed one always has it.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

_recorders = []


@dataclass(frozen=True)
class Change:
    type: str  # "character.updated", "call.started", ...
    organization_id: Any  # whose data changed: the feed's scope (events/scope.py)
    subject_type: str
    subject_id: str
    data: dict = field(default_factory=dict)  # never a secret
    # Who acted when no request says so ("worker", "system", "widget"); a request's
    # authenticated caller wins over it.
    actor_type: str = "system"


def register(recorder):
    """`recorder(change)` runs inside the transaction of every announced change."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def announce(change):
    """Record `change` in the current transaction; the caller's atomic block holds it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{change.type} announced outside a transaction")
    for recorder in _recorders:
        recorder(change)
