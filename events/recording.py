"""The outbox's recorder (oshara/outbox.py, registered in events/apps.py): each change the
apps announce becomes an event in the change's transaction, and once it commits the worker
delivers it to the webhook endpoints of its scope that want it."""

from events import feed, tasks
from events.models import WebhookEndpoint
from events.scope import scope_of
from events.webhooks import dispatching


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
    wanted = (
        dispatching.delivered(type)
        and WebhookEndpoint.objects.filter(organization=organization, is_active=True).exists()
    )
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
