"""The voice worker's endpoints: a session's runtime configuration, and its report.

`X-API-Key: <one of AGENT_WORKER_KEYS>` only (see calls/authentication.py); with no key set
both answer 404, as if they did not exist.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed, NotFound, Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from calls import services
from calls.api.serializers import ReportSerializer, RuntimeSerializer
from calls.authentication import WorkerKeyAuthentication, worker_keys
from calls.runtime import build_runtime
from calls.selectors import session_for_worker
from calls.throttling import WorkerIPThrottle
from oshara.http.json_input import StrictJSONParser
from oshara.http.throttling import client_address
from oshara.schema import error_response

GONE = error_response(410, "The session was reported, or its token has expired.")
FETCH_LIMIT = error_response(429, "RUNTIME_FETCH_LIMIT fetches of this session, or wrong keys.")


class GoneError(NotFound):
    status_code = 410
    default_detail = "This session has ended or its token has expired."
    default_code = "gone"


class WorkerView(APIView):
    authentication_classes = [WorkerKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [WorkerIPThrottle]
    parser_classes = [StrictJSONParser]

    def initial(self, request, *args, **kwargs):
        # A wrong method is a 405 before anything else, as on every other endpoint.
        if request.method not in self.allowed_methods:
            raise MethodNotAllowed(request.method)
        if not worker_keys():
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
    "fetch is recorded, with the client's address; a session's runtime is handed out at "
    "most RUNTIME_FETCH_LIMIT times (then 429), and never once the session is reported (410). "
    "Never cached (`Cache-Control: no-store`).",
    responses={200: RuntimeSerializer, 410: GONE, 429: FETCH_LIMIT},
)
class RuntimeView(WorkerView):
    def get(self, request, session_id):
        session = self.get_session(session_id)
        if session.character is None or not session.character.is_active:
            raise GoneError()
        try:
            services.record_runtime_fetch(
                session,
                client_address=client_address(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except services.SessionOver:
            raise GoneError() from None
        except services.FetchLimitReached as exc:
            raise Throttled(detail=f"{exc} (RUNTIME_FETCH_LIMIT).") from None
        response = Response(build_runtime(session, request))
        response["Cache-Control"] = "no-store"  # it carries secrets: no cache may keep a copy
        return response


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
