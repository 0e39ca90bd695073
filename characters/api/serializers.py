"""The character object, exactly as the reference's schema lays it out."""

from django.db import models
from django.http import QueryDict
from rest_framework import serializers

from accounts.organizations.acting import acting_organization
from characters import services
from characters.api.file_fields import KeptFileField, KeptImageField
from characters.api.tool_integrations import ToolIntegrationsMixin
from characters.contributions import contributions
from characters.models import WRITE_ONLY_KEYS, Character
from characters.schemas.appearance import WidgetAppearanceSerializer
from characters.schemas.tools import mcp_servers_field, tools_field
from characters.validators import (
    HANDOFF_UNKNOWN,
    LLM_API_KEY_MAX_LENGTH,
    MAX_ALLOWED_ORIGINS,
    SESSION_OVERRIDE_KEYS,
    dedupe,
    handoff_errors,
    stored_origins,
    validate_audio,
    validate_http_url,
    validate_origin,
)
from characters.version_models import MAX_NUMBER, NOTE_MAX_LENGTH
from oshara.http import json_input
from oshara.http.strict import (
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)

# Sent as JSON text inside a multipart request.
MULTIPART_JSON_FIELDS = (
    "allowed_origins",
    "session_overrides",
    "handoff_targets",
    "widget_appearance",
    "tools",
    "mcp_servers",
    "is_active",
)
# What a multipart secret part holds when a client meant null: never stored as a key.
# (openapi-python-client sends str(None); others send "null".)
NULL_TEXTS = ("", "None", "null")
# Lists a multipart body may also send as one part per item (what generated clients do).
MULTIPART_LIST_FIELDS = {
    "allowed_origins": "text",
    "session_overrides": "text",
    "handoff_targets": "json",
    "tools": "json",
    "mcp_servers": "json",
}


def _json_part(key, value):
    try:
        return json_input.loads(value)
    except json_input.JSONInputError as exc:
        raise serializers.ValidationError(
            {key: [f"In a multipart request this field must be JSON text: {exc}"]}
        ) from None


def _multipart_list(data, key):
    """One JSON-text part holding the whole list, or one part per item."""
    parts = data.getlist(key)
    if len(parts) == 1 and isinstance(parts[0], str) and parts[0].lstrip().startswith("["):
        return _json_part(key, parts[0])
    if MULTIPART_LIST_FIELDS[key] == "json":
        return [_json_part(key, part) if isinstance(part, str) else part for part in parts]
    return parts


def multipart_to_dict(data, file_fields):
    """Turn a multipart body into the JSON shape: dotted `voice.x` keys, JSON-encoded lists."""
    result = {}
    for key in data:
        value = data.get(key)
        if key in MULTIPART_LIST_FIELDS:
            value = _multipart_list(data, key)
        elif key in MULTIPART_JSON_FIELDS and isinstance(value, str):
            value = _json_part(key, value)
        if value == "" and key in file_fields:
            value = None  # an empty form value clears the file
        if key in WRITE_ONLY_KEYS and value in NULL_TEXTS:
            value = None  # a part cannot hold null: what clients send for it clears the key
        parent, dot, child = key.partition(".")
        if dot and parent == "voice":
            result.setdefault("voice", {})[child] = value
        else:
            result[key] = value
    return result


class VoiceSerializer(StrictSerializer):
    """Voice configuration: an uploaded audio sample and/or a voice URL."""

    audio_file = KeptFileField(
        source="voice_audio_file",
        required=False,
        allow_null=True,
        max_length=100,
        validators=[validate_audio],
    )
    voice_url = StrictCharField(
        required=False, allow_blank=True, max_length=500, validators=[validate_http_url]
    )


class HandoffTargetSerializer(StrictSerializer):
    """Another character of the same organization this agent can hand off to, by slug."""

    slug = StrictCharField(max_length=64)
    name = serializers.CharField(read_only=True)


class CharacterSerializer(
    ToolIntegrationsMixin,
    RejectUnknownFieldsMixin,
    serializers.ModelSerializer,
):
    """An AI character: the complete definition of a voice agent. Unknown keys are a 400."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.ImageField: KeptImageField,
    }
    serializer_choice_field = StrictChoiceField

    voice = VoiceSerializer(source="*", required=False)
    allowed_origins = serializers.ListField(
        child=StrictCharField(validators=[validate_origin]),
        max_length=MAX_ALLOWED_ORIGINS,
        required=False,
    )
    session_overrides = serializers.ListField(
        child=StrictChoiceField(choices=SESSION_OVERRIDE_KEYS),
        max_length=len(SESSION_OVERRIDE_KEYS),
        required=False,
        help_text="The session-start overrides a caller admitted by its Origin alone may send "
        '(default ["language", "origin_url", "metadata"]); the owner\'s own credentials may '
        "send every one.",
    )
    handoff_targets = HandoffTargetSerializer(
        many=True, required=False, source="ordered_handoff_targets"
    )
    widget_appearance = WidgetAppearanceSerializer(required=False)
    llm_api_key = StrictCharField(
        write_only=True,
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=LLM_API_KEY_MAX_LENGTH,
    )
    has_llm_api_key = serializers.BooleanField(read_only=True)
    kb_query_url = StrictCharField(
        required=False, allow_blank=True, max_length=500, validators=[validate_http_url]
    )
    kb_query_api_key = StrictCharField(
        write_only=True,
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=LLM_API_KEY_MAX_LENGTH,
    )
    has_kb_query_api_key = serializers.BooleanField(read_only=True)
    # JSON true/false (JSON text `true`/`false` in a multipart request).
    is_active = StrictBooleanField(required=False)
    tools = tools_field()
    mcp_servers = mcp_servers_field()
    has_unpublished_changes = serializers.BooleanField(
        read_only=True,
        help_text='Whether a "manual" character has versions newer than the published one.',
    )

    class Meta:
        model = Character
        fields = [
            "slug",
            "name",
            "character_type",
            "image",
            "system_prompt",
            "greeting",
            "voice",
            "language",
            "background_audio",
            "allowed_origins",
            "session_overrides",
            "handoff_targets",
            "widget_appearance",
            "stt_model",
            "tts_model",
            "llm_provider",
            "llm_model",
            "llm_api_key",
            "has_llm_api_key",
            "tools",
            "mcp_servers",
            "kb_query_url",
            "kb_query_api_key",
            "has_kb_query_api_key",
            "is_active",
            "publishing",
            # Here the fields other apps contribute (get_fields): `documents`.
            "version",
            "published_version",
            "has_unpublished_changes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "version",
            "published_version",
            "has_unpublished_changes",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"image": {"allow_null": True}}

    def get_fields(self):
        # Contributed fields (characters/contributions.py) go last, before the timestamps.
        fields = super().get_fields()
        timestamps = {name: fields.pop(name) for name in ("created_at", "updated_at")}
        for contribution in contributions():
            fields[contribution.name] = contribution.make_field()
        return {**fields, **timestamps}

    def to_internal_value(self, data):
        if isinstance(data, QueryDict):
            request = self.context.get("request")
            length = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
            if not data and length.isdigit() and int(length):
                raise serializers.ValidationError(
                    {"non_field_errors": ["No part of this multipart body could be read."]}
                )
            data = multipart_to_dict(data, file_fields={"image", "voice.audio_file"})
        return super().to_internal_value(data)

    def validate_slug(self, value):
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("The slug cannot be changed after creation.")
        return value

    def validate_allowed_origins(self, value):
        return stored_origins(value)

    def validate_session_overrides(self, value):
        return dedupe(value)

    def validate_handoff_targets(self, value):
        """Resolve [{"slug"}] to characters of the same organization, in order."""
        slugs = [item["slug"] for item in value]
        organization_id = acting_organization(self.context["request"]).organization_id
        same_organization = Character.objects.filter(
            organization_id=organization_id, slug__in=slugs
        )
        # Locked, so a concurrent delete of a target waits and then removes our link too.
        targets = services.lock_for_reference(same_organization)
        found = {c.slug: c for c in targets}
        own_slug = self.instance.slug if self.instance is not None else None
        # Keyed by position, like DRF's own errors for lists of objects.
        errors = handoff_errors(own_slug, slugs)
        for index, slug in enumerate(slugs):
            if index not in errors and slug not in found:
                errors[index] = HANDOFF_UNKNOWN
        if errors:
            raise serializers.ValidationError(
                {index: {"slug": [message]} for index, message in sorted(errors.items())}
            )
        return [found[slug] for slug in slugs]

    def create(self, validated_data):
        targets = validated_data.pop("ordered_handoff_targets", [])
        return services.character_create(
            handoff_targets=targets, change=self.context["change"], **validated_data
        )

    def update(self, instance, validated_data):
        targets = validated_data.pop("ordered_handoff_targets", None)
        reset = () if self.partial else list(self.writable_sources())
        return services.character_update(
            instance,
            validated_data,
            handoff_targets=targets,
            reset=reset,
            change=self.context["change"],
            optimistic=self.context.get("optimistic", False),
        )

    def writable_sources(self):
        """The model fields this representation writes (PUT replaces all of them)."""
        for field in self._writable_fields:
            children = field._writable_fields if field.source == "*" else [field]
            for child in children:
                yield child.source


def version_of(character, number):
    """The character's version `number`, or the 400 naming it (never recorded, or pruned)."""
    version = character.versions.filter(number=number).first()
    if version is None:
        raise serializers.ValidationError(f"{character.slug} has no version {number}.")
    return version


class PublishSerializer(StrictSerializer):
    """POST /publish/: the version to make live (default: the newest), and why."""

    version = StrictIntegerField(required=False, min_value=1, max_value=MAX_NUMBER)
    note = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="Why this version goes live: stored with it (`published_note`) and in "
        "the `character.published` event.",
    )

    def validate_version(self, value):
        return version_of(self.context["character"], value).number
