from rest_framework import serializers

from events.models import Event

MAX_LIMIT = 200


class EventQuerySerializer(serializers.Serializer):
    """The audit log's filters (query parameters)."""

    type = serializers.CharField(required=False, max_length=64)
    subject = serializers.CharField(required=False, max_length=100)
    actor = serializers.CharField(required=False, max_length=100)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=50)
    cursor = serializers.CharField(required=False, max_length=200)


class ActorSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField(allow_null=True)
    label = serializers.CharField()


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    """The declared fields are the schema's; `to_representation` writes the same object
    directly, without a field object per value (a page of 200 events would otherwise spend
    most of its time in DRF's fields: bench/webhooks.py). Its time is left to the renderer,
    which writes it as DateTimeField would (ISO 8601, "Z" for UTC, this project's zone)."""

    organization = serializers.CharField()
    actor = ActorSerializer()
    subject = SubjectSerializer()

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "created_at",
            "organization",
            "actor",
            "ip",
            "request_id",
            "subject",
            "data",
        ]

    def to_representation(self, event):
        return {
            "id": event.id,
            "type": event.type,
            "created_at": event.created_at,
            "organization": event.organization,
            "actor": event.actor,
            "ip": event.ip,
            "request_id": event.request_id,
            "subject": event.subject,
            "data": event.data,
        }
