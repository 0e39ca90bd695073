"""What clients send and see of webhook endpoints: the secret only on creation and rotation."""

import regex
from django.core.validators import URLValidator
from rest_framework import serializers

from events.models import Delivery, WebhookEndpoint
from events.webhooks import dispatching
from events.webhooks.network import UnsafeURL, check_url
from oshara.http.strict import RejectUnknownFieldsMixin, StrictBooleanField, StrictCharField

# A type ("call.ended"), a prefix ("character.*") or every type ("*").
EVENT_PATTERN = regex.compile(r"\*|[a-z_]+(\.[a-z_]+)*(\.\*)?")
MAX_PATTERNS = 50
URL_SYNTAX = URLValidator(schemes=["http", "https"], message="Enter a valid URL.")


class WebhookEndpointSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    url = StrictCharField(max_length=2000, help_text="https:// URL the events are POSTed to.")
    events = serializers.ListField(
        child=StrictCharField(max_length=64),
        max_length=MAX_PATTERNS,
        required=False,
        help_text='Event types or prefixes ("character.*"); empty: every type.',
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "disabled_at", "created_at", "updated_at"]

    def validate_url(self, url):
        URL_SYNTAX(url)
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return url

    def validate_events(self, patterns):
        for pattern in patterns:
            if not EVENT_PATTERN.fullmatch(pattern):
                raise serializers.ValidationError(f"{pattern!r} is not an event type or prefix.")
            if pattern in dispatching.AUDIT_ONLY:
                raise serializers.ValidationError(
                    f"{pattern} is in the audit log only: it is never sent to a webhook."
                )
        return list(dict.fromkeys(patterns))


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Creation and rotation: the only responses that carry the secret."""

    secret = serializers.CharField(
        read_only=True, help_text="whsec_…: verifies the signatures. Shown once: store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "duration_ms",
            "response_body",
        ]
        read_only_fields = fields


class DeliveryQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50, required=False)
