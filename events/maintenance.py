"""The feed's periodic work (manage.py run_events_maintenance)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from events.models import Event
from events.webhooks import delivery, dispatching

PRUNE_BATCH = 10_000


def prune(now=None):
    """Delete the events older than EVENT_RETENTION_DAYS (their deliveries with them), in
    batches so no transaction grows with the backlog."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    pruned = 0
    while True:
        batch = list(
            Event.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            return pruned
        Event.objects.filter(pk__in=batch).delete()
        pruned += len(batch)


def send_due(now=None):
    """Attempt every delivery that is due now; returns how many were attempted."""
    now = now or timezone.now()
    attempted = 0
    for delivery_id in list(delivery.due(now).values_list("pk", flat=True)):
        if delivery.attempt(delivery_id, now) is not None:
            attempted += 1
    return attempted


def run(now=None):
    pruned = prune(now)
    dispatching.dispatch_pending(enqueue=lambda delivery_id: None)
    return pruned, send_due(now)
