"""The voice worker's endpoints: a session's runtime configuration, and its report.

`X-API-Key: <AGENT_WORKER_KEY>` only (see calls/authentication.py); with the setting empty
both answer 404, as if they did not exist.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed, NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from calls import services
from calls.api.serializers import ReportSerializer, RuntimeSerializer
from calls.authentication import WorkerKeyAuthentication
from calls.runtime import build_runtime
from calls.selectors import session_for_worker
from calls.throttling import WorkerIPThrottle
from oshara.schema import error_response

GONE = error_response(410, "The session has ended or its token has expired.")


class GoneError(NotFound):
    status_code = 410
    default_detail = "This session has ended or its token has expired."
    default_code = "gone"


class WorkerView(APIView):
    authentication_classes = [WorkerKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [WorkerIPThrottle]
    parser_classes = [JSONParser]

    def initial(self, request, *args, **kwargs):
        # A wrong method is a 405 before anything else, as on every other endpoint.
        if request.method not in self.allowed_methods:
            raise MethodNotAllowed(request.method)
        if not settings.AGENT_WORKER_KEY:
            raise NotFound()
        super().initial(request, *args, **kwargs)

    def perform_authentication(self, request):
        self.check_throttles(request)  # first, so wrong keys are counted too
        super().perform_authentication(request)

    def check_throttles(self, request):
        if not getattr(request, "throttles_checked", False):
            request.throttles_checked = True
            super().check_throttles(request)

    def get_session(self, session_id):
        session = session_for_worker(session_id)
        if session is None:
            raise NotFound("No session has this id.")
        return session


@extend_schema(
    tags=["worker"],
    summary="The voice worker's configuration for a session (secrets included)",
    description="The effective configuration: overrides applied, decrypted LLM key, real "
    "tool and MCP header values (the session's `mcp_headers` merged), forms as tools. Each "
    "fetch is recorded.",
    responses={200: RuntimeSerializer, 410: GONE},
)
class RuntimeView(WorkerView):
    def get(self, request, session_id):
        session = self.get_session(session_id)
        if session.character is None or not session.character.is_active or not session.is_running:
            raise GoneError()
        services.record_runtime_fetch(
            session,
            client_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(build_runtime(session, request))


@extend_schema(
    tags=["worker"],
    summary="Report a session's usage and transcript (ends it; a second report replaces it)",
    description="The usage numbers come at the top level or under `usage` (both at once is "
    "a 400); `llm_model`, the providers and the recording fields show in the history.",
    request=ReportSerializer,
    responses={
        200: inline_serializer(
            "SessionReportAccepted",
            {"session_id": serializers.CharField(), "ended_at": serializers.DateTimeField()},
        )
    },
)
class ReportView(WorkerView):
    def post(self, request, session_id):
        session = self.get_session(session_id)
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("character_slug", session.character_slug) != session.character_slug:
            raise ValidationError({"character_slug": ["This is not the session's character."]})
        services.record_report(
            session,
            usage=data.get("usage", {}),
            transcript=data.get("transcript", []),
            reported={field: data[field] for field in services.REPORTED_FIELDS if field in data},
        )
        return Response({"session_id": session.id, "ended_at": session.ended_at})
