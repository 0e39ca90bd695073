"""One delivery attempt and what follows it: success, a retry on DESIGN's schedule, failure,
and an endpoint that fails for WEBHOOK_DISABLE_AFTER disabled.

An attempt first claims its delivery with a conditional UPDATE that moves next_attempt_at a
lease ahead: two workers never send it at once, and a worker killed mid-attempt leaves it to
the next sweep once the lease ends (at least once, nothing lost)."""

import random
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events import feed, scope
from events.models import Delivery, WebhookEndpoint
from events.webhooks import sending, signing

# A claim outlasts its attempt (WEBHOOK_ATTEMPT_TIMEOUT at most, then its record) thrice: one
# older than this was a worker that died mid-attempt, and the delivery is due again.
LEASE_ATTEMPTS = 3
OPEN = (Delivery.Status.PENDING, Delivery.Status.RETRYING)
RETRYABLE = {408, 429}
# What an attempt changes on its delivery (the claim's lease included: next_attempt_at).
OUTCOME_FIELDS = [
    "attempts",
    "last_attempt_at",
    "last_status_code",
    "last_error",
    "duration_ms",
    "response_body",
    "status",
    "next_attempt_at",
]
TURNED_OFF = "The endpoint is turned off: turn it on and redeliver."


def due(now):
    return Delivery.objects.filter(status__in=OPEN).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def claim(delivery_id, now):
    lease = timedelta(seconds=LEASE_ATTEMPTS * settings.WEBHOOK_ATTEMPT_TIMEOUT)
    claimed = due(now).filter(pk=delivery_id).update(next_attempt_at=now + lease)
    if not claimed:
        return None
    # None if its endpoint was deleted since.
    return Delivery.objects.select_related("endpoint", "event").filter(pk=delivery_id).first()


def attempt(delivery_id, now=None):
    """Send the delivery if it is due; returns it after the attempt (None if not due)."""
    now = now or timezone.now()
    delivery = claim(delivery_id, now)
    if delivery is None:
        return None
    if not delivery.endpoint.is_active:
        return record_outcome(delivery, sending.Outcome(error=TURNED_OFF, refused=True), now)
    body = signing.body_of(delivery.event)
    secrets_ = signing.signing_secrets(delivery.endpoint, now)
    headers = signing.headers_for(delivery.event_id, body, secrets_, timezone.now())
    outcome = sending.post(delivery.endpoint.url, body, headers)
    # The sweep's clock (`now`) for the schedule; the signature's timestamp is the real time.
    return record_outcome(delivery, outcome, max(now, timezone.now()))


def record_outcome(delivery, outcome, now):
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:500]
    delivery.duration_ms = outcome.duration_ms
    delivery.response_body = outcome.response_body[:1024]
    code = outcome.status_code
    succeeded = code is not None and 200 <= code < 300
    retryable = not outcome.refused and (code is None or code in RETRYABLE or code >= 500)
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if succeeded:
        delivery.status, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, None
    elif retryable and delivery.attempts <= len(schedule):
        delay = outcome.retry_after
        if delay is None:
            delay = schedule[delivery.attempts - 1] * random.uniform(0.9, 1.1)
        delivery.status = Delivery.Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    else:
        delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
    if succeeded:
        # Two statements in autocommit, no lock (most attempts succeed: their cost is the
        # worker's throughput). The streak is cleared first: a worker dying between the two
        # leaves a delivery sent again (at least once), never a streak a success ended.
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
            failing_since=None
        )
        store(delivery)
        delivery.disabled_endpoint = False
        return delivery
    with transaction.atomic():
        store(delivery)
        delivery.disabled_endpoint = follow_failure(delivery.endpoint_id, now)
    return delivery


def store(delivery):
    """Write the attempt's outcome (nothing if the delivery went with its endpoint since)."""
    outcome = {name: getattr(delivery, name) for name in OUTCOME_FIELDS}
    Delivery.objects.filter(pk=delivery.pk).update(**outcome)


def follow_failure(endpoint_id, now):
    """A failure starts the endpoint's failing streak or, once it has lasted
    WEBHOOK_DISABLE_AFTER, disables the endpoint (returns True then)."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        return False
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(failing_since=now)
        return False
    failing_for = (now - endpoint.failing_since).total_seconds()
    if not endpoint.is_active or failing_for < settings.WEBHOOK_DISABLE_AFTER:
        return False
    disable(endpoint, now)
    return True


def disable(endpoint, now):
    """Stop sending to `endpoint`: its event, and an e-mail to its scope's owners once that
    commits (a mail server that is down fails nothing)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_at=now)
    feed.write_event(
        "webhook_endpoint.disabled",
        organization=endpoint.organization,
        subject=("webhook_endpoint", endpoint.pk),
        data={
            "id": endpoint.pk,
            "url": endpoint.url,
            "failing_since": endpoint.failing_since.isoformat(),
        },
    )
    message = (
        f"The webhook endpoint {endpoint.url} ({endpoint.pk}) has failed every delivery since "
        f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC and was disabled. Fix it, then turn it "
        "back on (PATCH /api/webhooks/{id}/ with is_active=true) and redeliver what failed."
    )
    recipients = scope.recipients(endpoint.organization)
    transaction.on_commit(
        lambda: send_mail("Webhook endpoint disabled", message, None, recipients),
        robust=True,
    )
