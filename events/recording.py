"""The outbox's recorder (oshara/outbox.py, registered in events/apps.py): each change the
apps announce becomes an event in the change's transaction, and once it commits the worker
delivers it to the webhook endpoints of its scope that want it."""

import functools

from django.db.models import Exists

from events import feed, tasks
from events.models import Event, WebhookEndpoint
from events.scope import scope_of
from events.webhooks import dispatching
from oshara.compiled import CompiledInsert

SCOPE = "\x00scope\x00"  # the stand-in for the scope in the compiled INSERT


def record(change):
    return publish(
        change.type,
        organization=scope_of(change.organization_id),
        subject=(change.subject_type, change.subject_id),
        data=change.data,
        actor_type=change.actor_type,
    )


def publish(type, *, organization, subject, data, actor_type="system"):
    """Write the event; a scope with an active webhook endpoint has it dispatched once it
    commits. Without one, or for an audit-only type, there is nothing to deliver, and no task
    is queued."""
    event = feed.new_event(
        type,
        organization=organization,
        subject=subject,
        data=data,
        actor_type=actor_type,
        dispatched=True,
    )
    if not dispatching.delivered(type):
        return feed.event_insert().insert(event)
    dispatched_unless_wanted().insert(event, {SCOPE: organization})
    if not event.dispatched:
        tasks.dispatch_after_commit()
    return event


@functools.cache
def dispatched_unless_wanted():
    """The event's INSERT, which also decides whether it waits for dispatch: only when its
    scope has an active endpoint. One statement, compiled once (oshara/compiled.py), where a
    look-up of the endpoints and then the INSERT were two round trips in every change, a third
    of the event's cost on PostgreSQL (bench/README.md)."""
    endpoints = WebhookEndpoint.objects.filter(organization=SCOPE, is_active=True)
    return CompiledInsert(
        Event,
        Event.objects.db,
        computed={"dispatched": ~Exists(endpoints)},
        stand_ins={SCOPE: None},
        returning="dispatched",
    )
