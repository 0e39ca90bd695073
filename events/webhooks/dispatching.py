"""From events to deliveries: each committed event gets one delivery per active endpoint of
its scope that wants its type."""

from django.db import transaction

from events.models import Delivery, Event, WebhookEndpoint

BATCH = 500
# Deliveries of one endpoint sent by one task (per_endpoint).
SEND_BATCH = 50
# In the audit log, never sent to a webhook: whatever an endpoint's `events` say ("*", none,
# "runtime.*"), these are not delivered (docs/webhooks.md).
AUDIT_ONLY = frozenset({"runtime.fetched"})


def delivered(event_type):
    return event_type not in AUDIT_ONLY


def wants(endpoint, event_type):
    """An endpoint's `events` name types or prefixes ("character.*"); none means all."""
    if not delivered(event_type):
        return False
    if not endpoint.events:
        return True
    for pattern in endpoint.events:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def dispatch_pending(enqueue):
    """Make the deliveries of every undispatched event; once a batch commits,
    `enqueue(delivery_ids)` is called for each endpoint's share of it (SEND_BATCH at most).
    Concurrent runs skip each other's rows (PostgreSQL)."""
    while True:
        with transaction.atomic():
            events = list(
                Event.objects.filter(dispatched=False)
                .order_by("created_at")
                .select_for_update(skip_locked=True)[:BATCH]
            )
            if not events:
                return
            deliveries = deliveries_for(events)
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            Event.objects.filter(pk__in=[event.pk for event in events]).update(dispatched=True)
            for ids in per_endpoint(deliveries):
                transaction.on_commit(lambda ids=ids: enqueue(ids), robust=True)


def per_endpoint(deliveries):
    """The deliveries' ids, one endpoint's together, SEND_BATCH at most: one task sends them
    in turn (a task's own cost, its claim and its result in the queue, is paid once), and an
    endpoint that times out delays only its own deliveries."""
    ids = {}
    for delivery in deliveries:
        ids.setdefault(delivery.endpoint_id, []).append(delivery.pk)
    for endpoint_ids in ids.values():
        for start in range(0, len(endpoint_ids), SEND_BATCH):
            yield endpoint_ids[start : start + SEND_BATCH]


def deliveries_for(events):
    scopes = {event.organization for event in events}
    endpoints = list(WebhookEndpoint.objects.filter(organization__in=scopes, is_active=True))
    return [
        Delivery(endpoint=endpoint, event=event)
        for event in events
        for endpoint in endpoints
        if endpoint.organization == event.organization and wants(endpoint, event.type)
    ]
