"""The outbox's recorder (oshara/outbox.py, registered in events/apps.py): each change the
apps announce becomes an event in the change's transaction, and once it commits the worker
delivers it to the webhook endpoints that want it."""

from events import feed, tasks
from events.scope import scope_of_owner


def record(change):
    event = feed.write_event(
        change.type,
        organization=scope_of_owner(change.owner_id),
        subject=(change.subject_type, change.subject_id),
        data=change.data,
        actor_type=change.actor_type,
    )
    tasks.dispatch_after_commit()
    return event
