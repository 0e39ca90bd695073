"""Response shapes of the history endpoints, and their envelope in the OpenAPI schema."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from calls.models import CallSession
from calls.selectors import estimated_cost
from calls.services import USAGE_FIELDS
from characters.schemas.masking import MASK


class SessionSummarySerializer(serializers.ModelSerializer):
    session_id = serializers.CharField(source="id")
    status = serializers.SerializerMethodField()
    estimated_cost_usd = serializers.SerializerMethodField()

    class Meta:
        model = CallSession
        fields = [
            "session_id",
            "character_slug",
            "status",
            "started_at",
            "ended_at",
            "expires_at",
            *USAGE_FIELDS,
            "estimated_cost_usd",
        ]

    def get_status(self, session) -> str:
        if session.ended_at is not None:
            return "ended"
        return "running" if session.is_running else "expired"

    def get_estimated_cost_usd(self, session) -> float:
        return estimated_cost({field: getattr(session, field) for field in USAGE_FIELDS})


class SessionDetailSerializer(SessionSummarySerializer):
    overrides = serializers.SerializerMethodField()

    class Meta(SessionSummarySerializer.Meta):
        fields = [
            *SessionSummarySerializer.Meta.fields,
            "room_name",
            "participant_identity",
            "origin_url",
            "metadata",
            "overrides",
            "reported_at",
            "transcript",
        ]

    def get_overrides(self, session) -> dict:
        """The session's overrides; mcp_headers values are secrets, shown as a mask."""
        overrides = dict(session.overrides)
        if session.mcp_headers:
            overrides["mcp_headers"] = {name: MASK for name in session.mcp_headers}
        return overrides


class TotalsSerializer(serializers.Serializer):
    session_count = serializers.IntegerField()
    session_duration_seconds = serializers.FloatField()
    turn_count = serializers.IntegerField()
    interruption_count = serializers.IntegerField()
    llm_input_tokens = serializers.IntegerField()
    llm_output_tokens = serializers.IntegerField()
    stt_audio_seconds = serializers.FloatField()
    tts_characters = serializers.IntegerField()
    estimated_cost_usd = serializers.FloatField()


class UsageSerializer(serializers.Serializer):
    totals = TotalsSerializer()
    sessions = SessionSummarySerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()


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
        404: "No session of yours has this id.",
        429: "Too many requests: retry after the `Retry-After` header's seconds.",
    }.items()
}
