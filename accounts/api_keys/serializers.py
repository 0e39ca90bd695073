"""What clients send and see of their API keys: never the digest, the full key only once."""

from rest_framework import serializers

from accounts.api_keys.models import ApiKey
from oshara.http.strict import (
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
)


class ApiKeySerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    name = StrictCharField(max_length=100, help_text="A label, e.g. where the key is used.")
    is_active = StrictBooleanField(
        default=True, help_text="An inactive key is refused (401) until reactivated."
    )
    key_preview = serializers.CharField(
        read_only=True, help_text="The first 5 and last 4 characters of the key."
    )

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key_preview", "is_active", "created_at", "last_used_at"]
        read_only_fields = ["id", "key_preview", "created_at", "last_used_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The creation response: the only one that ever carries the full key."""

    key = serializers.SerializerMethodField(
        help_text="The full key, `sk_` + 64 hex characters. Shown once: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields[:2], "key", *ApiKeySerializer.Meta.fields[2:]]

    def get_key(self, api_key) -> str:
        return self.context["full_key"]
