"""A character's versions as the API shows them: metadata, the character then, diffs."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from characters.api.serializers import CharacterSerializer
from characters.contributions import contributions
from characters.models import CharacterVersion
from characters.selectors import as_of_version
from characters.version_models import AuthorType


class AuthorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(AuthorType.choices, source="author_type")
    id = serializers.IntegerField(source="author_id", allow_null=True)
    label = serializers.CharField(source="author_label")


class VersionSerializer(serializers.ModelSerializer):
    """One version's metadata: who, through what, why, and the paths it changed."""

    version = serializers.IntegerField(source="number")
    author = AuthorSerializer(source="*")
    changed = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = CharacterVersion
        fields = [
            "version",
            "created_at",
            "author",
            "source",
            "note",
            "changed",
            "published_at",
            "published_note",
        ]
        read_only_fields = fields


class VersionCharacterSerializer(CharacterSerializer):
    """The character as a version holds it: the API's fields, secrets masked; not the
    documents, which are data of the character, not a part of its versions."""

    def get_fields(self):
        fields = super().get_fields()
        for contribution in contributions():
            fields.pop(contribution.name, None)
        return fields


class VersionDetailSerializer(VersionSerializer):
    character = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "character"]
        read_only_fields = fields

    @extend_schema_field(VersionCharacterSerializer)
    def get_character(self, version):
        character = as_of_version(self.context["character"], version)
        return VersionCharacterSerializer(character, context=self.context).data


class ChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class DiffSerializer(serializers.Serializer):
    """What differs between two versions, path by path; secrets as ******** where changed."""

    changes = ChangeSerializer(many=True)

    def get_fields(self):
        # "from" is a Python keyword: the fields are named here.
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            **super().get_fields(),
        }
