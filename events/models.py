"""The change feed: events (the audit log), webhook endpoints and their deliveries."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from characters.crypto import EncryptedTextField
from events.ids import new_delivery_id, new_endpoint_id, new_event_id


class Event(models.Model):
    """One change, written in the change's own transaction (oshara/outbox.py)."""

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    type = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Whose feed it belongs to (events/scope.py).
    organization = models.CharField(max_length=40)
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    subject_type = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    # Set once the worker has made a delivery for each endpoint that wants it.
    dispatched = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The log's order within a scope: the first page and the cursor's next one.
            models.Index(
                fields=["organization", "-created_at", "-id"], name="event_org_created_idx"
            ),
            models.Index(fields=["created_at"], name="event_created_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched=False),
                name="event_undispatched_idx",
            ),
        ]

    def __str__(self):
        return f"{self.id} {self.type}"

    @property
    def actor(self):
        return {"type": self.actor_type, "id": self.actor_id or None, "label": self.actor_label}

    @property
    def subject(self):
        return {"type": self.subject_type, "id": self.subject_id}


class WebhookEndpoint(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_endpoint_id, editable=False)
    organization = models.CharField(max_length=40, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    # Event types or prefixes ("character.*"); empty means every type.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    secret = EncryptedTextField()
    # After a rotation the old secret signs beside the new one until it expires.
    previous_secret = EncryptedTextField(blank=True, default=None)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The first failure since the last success: WEBHOOK_DISABLE_AFTER counts from it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.url


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=40, default=new_delivery_id, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self):
        return self.id
