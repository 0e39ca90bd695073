"""The feed's one write: an event in the current transaction, naming the request being
served (events/context.py) or, without one, the actor type the caller gives."""

import functools

from events import context
from events.models import Event
from oshara.compiled import CompiledInsert


def new_event(type, *, organization, subject, data, actor_type="system", dispatched=False):
    """The event of a change made now, not yet written."""
    request = context.current_request()
    actor = context.actor_of(request, actor_type)
    ip, request_id = context.request_details(request)
    return Event(
        type=type,
        organization=organization,
        actor_type=actor["type"],
        actor_id=actor["id"],
        actor_label=actor["label"][:254],
        ip=ip,
        request_id=request_id,
        subject_type=subject[0],
        subject_id=str(subject[1]),
        data=data,
        dispatched=dispatched,
    )


def write_event(type, *, organization, subject, data, actor_type="system", dispatched=False):
    """Write an event in the current transaction (`dispatched`: its deliveries are the
    caller's business, as for a test event)."""
    event = new_event(
        type,
        organization=organization,
        subject=subject,
        data=data,
        actor_type=actor_type,
        dispatched=dispatched,
    )
    return event_insert().insert(event)


@functools.cache
def event_insert():
    """The event's INSERT, compiled once (oshara/compiled.py): it is in every change."""
    return CompiledInsert(Event, Event.objects.db)
