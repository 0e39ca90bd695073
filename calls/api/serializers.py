"""Request bodies of the call endpoints, strictly validated (unknown keys are a 400)."""

import json
import math

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calls.services import USAGE_FIELDS
from characters.schemas.tools import HeadersField
from characters.validators import validate_http_url, validate_language, validate_slug
from characters.version_models import MAX_NUMBER
from oshara.http.strict import (
    GivenFieldsMixin,
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictIntegerField,
    StrictNumberField,
    StrictSerializer,
)

MAX_METADATA_BYTES = 4096  # LiveKit's own bound on participant metadata is of this order
MAX_TRANSCRIPT_TURNS = 10_000
MAX_TURN_TEXT = 20_000
MAX_USAGE_NUMBER = 10**9
TRANSCRIPT_ROLES = ("user", "assistant", "agent", "system", "developer", "tool")


class MetadataField(serializers.DictField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_METADATA_BYTES:
            raise serializers.ValidationError(
                f"Ensure this object is at most {MAX_METADATA_BYTES} bytes as JSON (it is {size})."
            )
        return value


class SessionStartSerializer(GivenFieldsMixin, RejectUnknownFieldsMixin, serializers.Serializer):
    agent = StrictCharField(
        max_length=64,
        validators=[validate_slug],
        help_text="The character's slug.",
    )
    language = StrictCharField(max_length=35, required=False, validators=[validate_language])
    system_prompt = StrictCharField(
        max_length=100_000, required=False, allow_blank=True, trim_whitespace=False
    )
    greeting = StrictCharField(
        max_length=2_000, required=False, allow_blank=True, trim_whitespace=False
    )
    voice_model = StrictCharField(max_length=100, required=False, allow_blank=True)
    reference_audio_url = StrictCharField(
        max_length=2000, required=False, validators=[validate_http_url]
    )
    mcp_headers = HeadersField(
        required=False,
        write_only=True,
        help_text="Header values merged into every MCP call of this session (secret).",
    )
    origin_url = StrictCharField(max_length=2000, required=False, validators=[validate_http_url])
    metadata = MetadataField(required=False, help_text=f"At most {MAX_METADATA_BYTES} bytes.")
    version = StrictIntegerField(
        min_value=1,
        max_value=MAX_NUMBER,
        required=False,
        help_text="Run this version of the character (a draft under test) instead of what is "
        "published: only with the owner's credentials.",
    )


class SessionStartResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="LiveKit access token for this room only.")
    livekit_url = serializers.CharField()
    room_name = serializers.CharField()
    participant_identity = serializers.CharField()
    session_id = serializers.CharField()
    expires_in_seconds = serializers.IntegerField()
    character_slug = serializers.CharField()
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The character version this session runs (null: a character with no "
        "recorded version).",
    )
    system_prompt = serializers.CharField()
    greeting = serializers.CharField()


def usage_number(integer, **kwargs):
    kwargs = {"min_value": 0, "max_value": MAX_USAGE_NUMBER, "default": 0, **kwargs}
    return StrictIntegerField(**kwargs) if integer else StrictNumberField(**kwargs)


class UsageSerializer(StrictSerializer):
    session_duration_seconds = usage_number(integer=False)
    turn_count = usage_number(integer=True)
    interruption_count = usage_number(integer=True)
    llm_input_tokens = usage_number(integer=True)
    llm_output_tokens = usage_number(integer=True)
    stt_audio_seconds = usage_number(integer=False)
    tts_characters = usage_number(integer=True)


TURN_SCHEMA = {
    "type": "object",
    "properties": {
        "role": {"type": "string", "enum": list(TRANSCRIPT_ROLES)},
        "text": {"type": "string", "maxLength": MAX_TURN_TEXT},
        "turn_index": {"type": "integer", "minimum": 0, "maximum": MAX_USAGE_NUMBER},
        "ts": {
            "description": "When the turn happened: Unix seconds or an ISO 8601 date-time.",
            "oneOf": [
                {"type": "number", "minimum": 0, "maximum": 1e11},
                {"type": "string", "format": "date-time"},
            ],
        },
    },
    "required": ["role", "text"],
    "additionalProperties": False,
}


@extend_schema_field({"type": "array", "items": TURN_SCHEMA, "maxItems": MAX_TRANSCRIPT_TURNS})
class TranscriptField(serializers.Field):
    """Up to MAX_TRANSCRIPT_TURNS turns, checked in one plain loop: a DRF serializer per turn
    would spend about a second on a full-size transcript."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Expected a list of turns.")
        if len(data) > MAX_TRANSCRIPT_TURNS:
            raise serializers.ValidationError(
                f"Ensure the transcript has no more than {MAX_TRANSCRIPT_TURNS} turns."
            )
        errors = {}
        for index, turn in enumerate(data):
            if problem := turn_problem(turn):
                errors[index] = problem
                if len(errors) >= 20:
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_representation(self, value):
        return value


def turn_problem(turn):
    """{key: [message]} for a bad turn, or None."""
    if not isinstance(turn, dict):
        return {"non_field_errors": ["Expected an object."]}
    unknown = set(turn) - set(TURN_SCHEMA["properties"])
    if unknown:
        return {key: ["Unknown field."] for key in sorted(unknown)}
    if turn.get("role") not in TRANSCRIPT_ROLES:
        return {"role": [f"Choose one of: {', '.join(TRANSCRIPT_ROLES)}."]}
    text = turn.get("text")
    if not isinstance(text, str) or len(text) > MAX_TURN_TEXT or "\x00" in text:
        return {"text": [f"Expected a string of at most {MAX_TURN_TEXT} characters, no NUL."]}
    index = turn.get("turn_index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 10**9:
        return {"turn_index": ["Expected an integer between 0 and 1000000000."]}
    if "ts" in turn and not valid_timestamp(turn["ts"]):
        return {"ts": ["Expected Unix seconds (0 to 1e11) or an ISO 8601 date-time."]}
    return None


def valid_timestamp(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value) and 0 <= value <= 1e11
    if isinstance(value, str) and len(value) <= 40:
        try:
            return parse_datetime(value) is not None
        except ValueError:
            return False
    return False


def reported_text(max_length, **kwargs):
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


BOTH_USAGES = "Send the usage numbers either at the top level or under usage, not both."


class ReportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The usage numbers come at the top level or under `usage` (workers differ; both at
    once is a 400 naming `usage`)."""

    usage = UsageSerializer(required=False)
    transcript = TranscriptField(required=False)
    character_slug = StrictCharField(
        max_length=64, required=False, help_text="When sent, must be the session's character."
    )
    llm_model = reported_text(100)
    llm_provider = reported_text(50)
    stt_provider = reported_text(50)
    tts_provider = reported_text(50)
    recording_status = reported_text(32)
    recording_url = reported_text(2000, validators=[validate_http_url])

    def get_fields(self):
        fields = super().get_fields()
        for name, field in UsageSerializer().get_fields().items():
            fields[name] = usage_number(
                isinstance(field, StrictIntegerField), default=serializers.empty, required=False
            )
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict) and "usage" in data and set(USAGE_FIELDS) & set(data):
            raise serializers.ValidationError({"usage": [BOTH_USAGES]})
        attrs = super().to_internal_value(data)
        top_level = {name: attrs.pop(name) for name in USAGE_FIELDS if name in attrs}
        if top_level:
            attrs["usage"] = top_level
        return attrs


class RuntimeVoiceSerializer(serializers.Serializer):
    audio_file = serializers.URLField(allow_null=True)
    voice_url = serializers.CharField()
    reference_audio_url = serializers.CharField()


class RuntimeSerializer(serializers.Serializer):
    """The shape of calls/runtime.py's body, for the OpenAPI schema."""

    session_id = serializers.CharField()
    character_slug = serializers.CharField()
    character_name = serializers.CharField()
    room_name = serializers.CharField()
    participant_identity = serializers.CharField()
    system_prompt = serializers.CharField()
    greeting = serializers.CharField()
    language = serializers.CharField()
    llm_provider = serializers.CharField()
    llm_model = serializers.CharField()
    llm_api_key = serializers.CharField(help_text="Decrypted; empty when none is stored.")
    stt_model = serializers.CharField()
    tts_model = serializers.CharField()
    voice_model = serializers.CharField()
    voice = RuntimeVoiceSerializer()
    background_audio = serializers.CharField()
    tools = serializers.ListField(child=serializers.DictField())
    mcp_servers = serializers.ListField(child=serializers.DictField())
    kb_query_url = serializers.CharField(
        help_text="Where `kb` tools search: the character's kb_query_url, or this service's "
        "/api/knowledge-base/query/ when that is empty."
    )
    kb_query_api_key = serializers.CharField(
        help_text="Sent as X-API-Key to kb_query_url: the character's decrypted "
        "kb_query_api_key, or for this service's endpoint the session's search key (`kbs_…`: "
        "this session's character only, `slug` optional, until an hour after the report)."
    )
    handoff_targets = serializers.ListField(child=serializers.DictField())
    forms = serializers.ListField(child=serializers.DictField())
    max_call_seconds = serializers.IntegerField()
    metadata = serializers.DictField()
    origin_url = serializers.CharField()
