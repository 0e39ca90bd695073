"""The outbox's recorder (oshara/outbox.py, registered in events/apps.py): each change the
apps announce becomes an event in the change's transaction, and once it commits the worker
delivers it to the webhook endpoints of its scope that want it."""

import functools

from events import feed, tasks
from events.models import WebhookEndpoint
from events.scope import scope_of
from events.webhooks import dispatching
from oshara.compiled import Compiled

SCOPE = "\x00scope\x00"  # the stand-in for the scope in the compiled look-up


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
    wanted = dispatching.delivered(type) and bool(active_endpoint().rows({SCOPE: organization}))
    event = feed.write_event(
        type,
        organization=organization,
        subject=subject,
        data=data,
        actor_type=actor_type,
        dispatched=not wanted,
    )
    if wanted:
        tasks.dispatch_after_commit()
    return event


@functools.cache
def active_endpoint():
    """Whether a scope has an active endpoint: a look-up every change makes, compiled once
    (oshara/compiled.py) since building it cost more than running it."""
    endpoints = WebhookEndpoint.objects.filter(organization=SCOPE, is_active=True)
    return Compiled(endpoints.values_list("pk")[:1], {SCOPE: None})
