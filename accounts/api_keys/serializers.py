"""What clients send and see of their API keys: never the digest, the full key only once."""

from rest_framework import serializers

from accounts.api_keys.models import ApiKey
from accounts.organizations.roles import Role, at_least
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
    role = serializers.ChoiceField(
        Role.choices,
        required=False,
        help_text="What the key may do in the organization (default: its creator's role; "
        "never above it). It acts with the lower of this and its creator's current role.",
    )

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key_preview", "role", "is_active", "created_at", "last_used_at"]
        read_only_fields = ["id", "key_preview", "created_at", "last_used_at"]

    def validate_role(self, value):
        creator_role = self.context["acting"].role
        if not at_least(creator_role, value):
            raise serializers.ValidationError(
                f"A key's role cannot be above its creator's ({creator_role})."
            )
        return value


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The creation response: the only one that ever carries the full key."""

    key = serializers.SerializerMethodField(
        help_text="The full key, `sk_` + 64 hex characters. Shown once: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields[:2], "key", *ApiKeySerializer.Meta.fields[2:]]

    def get_key(self, api_key) -> str:
        return self.context["full_key"]
