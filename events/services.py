"""Writes on webhook endpoints and their deliveries; each change of an endpoint is an event
of its scope (`webhook_endpoint.created|updated|deleted`), written in the same transaction."""

from django.db import transaction
from django.utils import timezone

from events import feed, recording, tasks
from events.models import Delivery, WebhookEndpoint
from events.webhooks import signing

PUBLIC_FIELDS = ("url", "events", "description", "is_active")


def announce(endpoint, type):
    recording.publish(
        type,
        organization=endpoint.organization,
        subject=("webhook_endpoint", endpoint.pk),
        data={name: getattr(endpoint, name) for name in ("id", *PUBLIC_FIELDS)},
    )


def create_endpoint(organization, created_by, **fields):
    """The new endpoint; its `secret` is readable on the returned object this once."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, created_by=created_by, secret=signing.new_secret(), **fields
        )
        announce(endpoint, "webhook_endpoint.created")
    return endpoint


def update_endpoint(endpoint, **fields):
    """Turning an endpoint back on clears its failing streak."""
    with transaction.atomic():
        if fields.get("is_active") and not endpoint.is_active:
            endpoint.disabled_at = endpoint.failing_since = None
        for name, value in fields.items():
            setattr(endpoint, name, value)
        endpoint.save()
        announce(endpoint, "webhook_endpoint.updated")
    return endpoint


def delete_endpoint(endpoint):
    with transaction.atomic():
        announce(endpoint, "webhook_endpoint.deleted")
        endpoint.delete()


def rotate_secret(endpoint):
    """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP."""
    now = timezone.now()
    with transaction.atomic():
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + signing.ROTATION_OVERLAP
        endpoint.secret = signing.new_secret()
        endpoint.save()
        announce(endpoint, "webhook_endpoint.updated")
    return endpoint


def send_test(endpoint):
    """A `webhook.test` event delivered to this endpoint alone."""
    with transaction.atomic():
        event = feed.write_event(
            "webhook.test",
            organization=endpoint.organization,
            subject=("webhook_endpoint", endpoint.pk),
            data={"endpoint_id": endpoint.pk, "message": "A test event from Oshara."},
            dispatched=True,
        )
        delivery = Delivery.objects.create(endpoint=endpoint, event=event)
        transaction.on_commit(lambda: tasks.enqueue_delivery(delivery.pk), robust=True)
    return delivery


def redeliver(delivery):
    """Send the delivery again from its first attempt, whatever its status."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=None
        )
        transaction.on_commit(lambda: tasks.enqueue_delivery(delivery.pk), robust=True)
