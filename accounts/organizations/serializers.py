"""What clients send and see of organizations, members and invitations."""

import re

from rest_framework import serializers

from accounts.organizations.models import SLUG_MAX_LENGTH, SLUG_PATTERN, Invitation, Membership
from accounts.organizations.roles import Role
from oshara.http.strict import RejectUnknownFieldsMixin, StrictCharField


class OrganizationSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """An organization as its member sees it, with the member's role."""

    id = serializers.IntegerField(read_only=True, source="organization.id")
    slug = StrictCharField(
        source="organization.slug",
        required=False,
        max_length=SLUG_MAX_LENGTH,
        help_text="Lower-case letters, digits, `-` and `_`; derived from the name when absent. "
        "Cannot be changed.",
    )
    name = StrictCharField(source="organization.name", max_length=100)
    role = serializers.ChoiceField(Role.choices, read_only=True)
    is_personal = serializers.BooleanField(read_only=True, source="organization.is_personal")

    def validate_slug(self, value):
        if not re.fullmatch(SLUG_PATTERN, value):
            raise serializers.ValidationError(
                "Use lower-case letters, digits, '-' and '_' (1-64 characters)."
            )
        if self.instance is not None and value != self.instance.organization.slug:
            raise serializers.ValidationError("The slug cannot be changed.")
        return value


class MemberSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True, source="user.email")
    role = serializers.ChoiceField(Role.choices)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "role", "joined_at"]
        read_only_fields = ["joined_at"]


class InvitationSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(Role.choices)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "expires_at"]
        read_only_fields = ["id", "expires_at"]


class InvitationCreatedSerializer(InvitationSerializer):
    """The creation response: the only one that carries the token (an admin may share it)."""

    token = serializers.SerializerMethodField(help_text="Shown once; also e-mailed.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token"]

    def get_token(self, invitation) -> str:
        return self.context["token"]


class AcceptSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    token = StrictCharField(max_length=100)


class AcceptedSerializer(serializers.Serializer):
    organization = serializers.CharField(help_text="The organization's slug.")
    role = serializers.ChoiceField(Role.choices)


class DefaultOrganizationSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    default_organization = StrictCharField(
        max_length=SLUG_MAX_LENGTH,
        help_text="The slug of an organization you are a member of: the acting one of your "
        "requests without X-Organization.",
    )
