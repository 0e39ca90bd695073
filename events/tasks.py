"""The task worker's part of the feed (Django's Tasks API, settings.TASKS): making each
event's deliveries and sending them. `manage.py run_events_maintenance` catches up on what
a queue that was down or a worker that died left (docs/webhooks.md)."""

from django.db import transaction

from events.webhooks import delivery, dispatching

try:  # Django 6 ships the Tasks API; on 5.2 the django-tasks backport provides it.
    from django.tasks import task
except ImportError:
    from django_tasks import task


@task()
def dispatch_events():
    dispatching.dispatch_pending(enqueue_deliveries)


@task()
def deliver(delivery_id):
    return send(delivery_id)


@task()
def deliver_batch(delivery_ids):
    """Deliveries of one endpoint in turn (events/webhooks/dispatching.py: per_endpoint)."""
    return [send(delivery_id) for delivery_id in delivery_ids]


def send(delivery_id):
    """One attempt; a retry is queued as a task of its own, at its time."""
    sent = delivery.attempt(delivery_id)
    if sent is None:
        return "not due"
    if sent.status == sent.Status.RETRYING:
        enqueue_delivery(sent.pk, run_after=sent.next_attempt_at)
    if getattr(sent, "disabled_endpoint", False):
        dispatch_events.enqueue()  # the endpoint's `webhook_endpoint.disabled` event
    return str(sent.status)


def enqueue_deliveries(delivery_ids):
    deliver_batch.enqueue(delivery_ids)


def enqueue_delivery(delivery_id, run_after=None):
    """Queue an attempt; a backend that cannot defer leaves a retry to the maintenance run."""
    if run_after is None:
        deliver.enqueue(delivery_id)
    elif deliver.get_backend().supports_defer:
        deliver.using(run_after=run_after).enqueue(delivery_id)


def dispatch_after_commit():
    transaction.on_commit(dispatch_events.enqueue, robust=True)
