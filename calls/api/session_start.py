"""POST /api/agents/agent-session/: start a call (a LiveKit token and a session record).

No token needed: the request's Origin must be one of the character's allowed_origins (the
rule of the widget's appearance fetch), or the request carries the owner's own credentials
(a site's backend, which sends no Origin).
"""

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from calls import livekit, services
from calls.api.serializers import SessionStartResponseSerializer, SessionStartSerializer
from calls.api.widget_gate import WidgetOriginGateMixin
from calls.selectors import startable_character, startable_keys
from calls.throttling import SessionStartIPThrottle
from oshara.http.json_input import StrictJSONParser, peek_data
from oshara.schema import error_response

UNKNOWN = "No active character has this slug."


class SessionLimitThrottled(Throttled):
    default_detail = "Too many sessions are running for this character's owner."


@extend_schema(
    tags=["calls"],
    summary="Start a call: a LiveKit token and a session",
    description="Gated by the `Origin` header against the character's `allowed_origins` "
    "(exact scheme, host and port), or by the owner's own credentials without an Origin. "
    "Overrides apply to this session only; unknown keys are a 400.",
    request=SessionStartSerializer,
    parameters=[
        OpenApiParameter(
            "Origin", str, OpenApiParameter.HEADER, description="The embedding page's origin."
        )
    ],
    responses={
        200: SessionStartResponseSerializer,
        403: error_response(403, "The Origin is missing or not allowed for this character."),
        404: error_response(404, UNKNOWN),
        429: error_response(429, "Throttled, or the owner's MAX_CONCURRENT_SESSIONS reached."),
        503: error_response(503, "LiveKit is not configured on this server."),
    },
)
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class SessionStartView(WidgetOriginGateMixin, APIView):
    """Reads come from the widget cache (calls/selectors.py) and the write runs in autocommit
    (services.start_session): no transaction is held open around the request."""

    permission_classes = [AllowAny]
    parser_classes = [StrictJSONParser]

    def dispatch(self, request, *args, **kwargs):
        if not transaction.get_connection().in_atomic_block:
            return super().dispatch(request, *args, **kwargs)
        # Inside someone else's transaction, a savepoint of our own: DRF's error handling
        # marks the open transaction for rollback, which must be this request's only.
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def post(self, request):
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        overrides = dict(serializer.validated_data)
        character = startable_character(overrides.pop("agent"), self.throttle.found)
        if character is None:
            raise NotFound(UNKNOWN)
        origin = request.headers.get("Origin")
        self.check_caller(request, character)
        if missing := livekit.missing_settings():
            return Response(
                {"detail": f"Calls are not configured on this server: set {', '.join(missing)}."},
                status=503,
            )
        try:
            session = services.start_session(
                character,
                overrides=overrides,
                origin_url=overrides.get("origin_url") or origin or "",
            )
        except services.CharacterGone:
            raise NotFound(UNKNOWN) from None
        except services.SessionLimitReached as exc:
            raise SessionLimitThrottled(
                wait=exc.retry_after,
                detail=f"This character's owner already has {exc.limit} sessions running.",
            ) from None
        response = Response(
            {
                "token": livekit.mint_token(session),
                "livekit_url": settings.LIVEKIT_URL,
                "room_name": session.room_name,
                "participant_identity": session.participant_identity,
                "session_id": session.id,
                "expires_in_seconds": settings.LIVEKIT_TOKEN_TTL,
                "character_slug": character.slug,
                "system_prompt": session.overrides.get("system_prompt", character.system_prompt),
                "greeting": session.overrides.get("greeting", character.greeting),
            }
        )
        response["Cache-Control"] = "no-store"  # the LiveKit token is a credential: never cached
        return response

    def options(self, request, *args, **kwargs):
        """CORS preflight: the slug is in the body, so the POST itself does the gating."""
        request.cors_origin = request.headers.get("Origin")
        return self.preflight(request)

    def get_throttles(self):
        if self.request.method == "OPTIONS":
            return []
        # The character's cache entry comes with the counter's round trip. A refused body
        # reads no entry but is counted all the same; the view then answers its 400.
        self.throttle = SessionStartIPThrottle()
        self.throttle.read_keys = startable_keys(peek_data(self.request))
        return [self.throttle]
