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
