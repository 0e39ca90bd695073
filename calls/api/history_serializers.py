"""Response shapes of the history endpoints (the platform's exact keys; a few of ours beside
them), and their envelope in the OpenAPI schema."""

from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from calls.api.serializers import TURN_SCHEMA
from calls.models import CallSession
from calls.selectors import estimated_cost
from calls.services import USAGE_FIELDS
from characters.schemas.masking import MASK

MONEY_SCHEMA = {
    "type": "string",
    "pattern": r"^[0-9]+\.[0-9]{6}$",
    "description": "US dollars, a decimal string to the micro-dollar.",
    "example": "0.015236",
}
# How a transcript turn's role reads in `transcript_text`.
SPEAKERS = {"user": "User", "assistant": "Assistant", "agent": "Assistant"}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.CharField):
    pass


def transcript_text(transcript):
    """One line a turn: "Assistant: Hello!\\nUser: Hi"."""
    return "\n".join(
        f"{SPEAKERS.get(turn['role'], turn['role'].capitalize())}: {turn['text']}"
        for turn in transcript
    )


class SessionSummarySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="number", help_text="The session's integer id.")
    session_id = serializers.CharField(source="id")
    tenant_id = serializers.SerializerMethodField(
        help_text="The slug of the organization the session belongs to."
    )
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The character version the session ran (null: started before versions).",
    )
    user = serializers.IntegerField(
        source="started_by_id",
        allow_null=True,
        help_text="The id of the user whose credentials started it; null for a visitor.",
    )
    estimated_cost_usd = serializers.SerializerMethodField()
    finalized_at = serializers.DateTimeField(
        source="reported_at", allow_null=True, help_text="When the worker reported it."
    )
    recording_presigned_url = serializers.SerializerMethodField(
        help_text="A signed link to the recording: null (no recording storage is configured)."
    )
    created_at = serializers.DateTimeField(source="started_at")
    status = serializers.SerializerMethodField()

    class Meta:
        model = CallSession
        fields = [
            "id",
            "session_id",
            "tenant_id",
            "character_slug",
            "version",
            "user",
            "room_name",
            "origin_url",
            "metadata",
            *USAGE_FIELDS,
            "llm_model",
            "llm_provider",
            "stt_provider",
            "tts_provider",
            "estimated_cost_usd",
            "finalized_at",
            "recording_status",
            "recording_url",
            "recording_presigned_url",
            "created_at",
            # Ours, beside the platform's.
            "status",
            "started_at",
            "ended_at",
            "expires_at",
        ]

    def get_tenant_id(self, session) -> str:
        return session.organization.slug

    @extend_schema_field(MONEY_SCHEMA)
    def get_estimated_cost_usd(self, session):
        return estimated_cost({field: getattr(session, field) for field in USAGE_FIELDS})

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_recording_presigned_url(self, session):
        return None

    def get_status(self, session) -> str:
        if session.ended_at is not None:
            return "ended"
        return "running" if session.is_running else "expired"


class SessionDetailSerializer(SessionSummarySerializer):
    transcript = serializers.SerializerMethodField()
    transcript_text = serializers.SerializerMethodField(
        help_text='One line a turn: "Assistant: …\\nUser: …".'
    )
    overrides = serializers.SerializerMethodField()

    class Meta(SessionSummarySerializer.Meta):
        fields = [
            *SessionSummarySerializer.Meta.fields,
            "transcript",
            "transcript_text",
            "participant_identity",
            "overrides",
            "reported_at",
        ]

    @extend_schema_field({"type": "array", "items": TURN_SCHEMA})
    def get_transcript(self, session):
        return session.transcript

    def get_transcript_text(self, session) -> str:
        return transcript_text(session.transcript)

    def get_overrides(self, session) -> dict:
        """The session's overrides; mcp_headers values are secrets, shown as a mask."""
        overrides = dict(session.overrides)
        if session.mcp_headers:
            overrides["mcp_headers"] = {name: MASK for name in session.mcp_headers}
        return overrides


class SessionPageSerializer(serializers.Serializer):
    data = SessionSummarySerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Sessions matching the query, on every page.")


class UsageSerializer(serializers.Serializer):
    total_sessions = serializers.IntegerField()
    total_session_duration_seconds = serializers.FloatField()
    total_llm_input_tokens = serializers.IntegerField()
    total_llm_output_tokens = serializers.IntegerField()
    total_stt_audio_seconds = serializers.FloatField()
    total_tts_characters = serializers.IntegerField()
    total_estimated_cost_usd = MoneyField()
    # Ours, beside the platform's.
    total_turn_count = serializers.IntegerField()
    total_interruption_count = serializers.IntegerField()
    sessions = SessionPageSerializer()


def enveloped(name, data_serializer, *, ok=True):
    return inline_serializer(
        name,
        {
            "success": serializers.BooleanField(),
            "message": serializers.CharField(),
            "data": data_serializer if ok else serializers.JSONField(allow_null=True),
            "errors": serializers.JSONField(allow_null=True),
        },
    )


ERROR_ENVELOPE = enveloped("ErrorEnvelope", None, ok=False)
ENVELOPE_ERRORS = {
    code: OpenApiResponse(ERROR_ENVELOPE, description=description)
    for code, description in {
        400: "A bad query parameter; `errors` names it.",
        401: "Missing, invalid or expired credentials.",
        403: "These credentials may not act in the organization X-Organization names.",
        404: "No session of yours has this id, or X-Organization names an organization you "
        "are not a member of.",
        429: "Too many requests: retry after the `Retry-After` header's seconds.",
    }.items()
}
