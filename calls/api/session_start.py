"""POST /api/agents/agent-session/: start a call (a LiveKit token and a session record).

No token needed: the request's Origin must be one of the character's allowed_origins (the
rule of the widget's appearance fetch), or the request carries the owner's own credentials
(a site's backend, which sends no Origin).
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from calls import livekit, services
from calls.api.serializers import SessionStartResponseSerializer, SessionStartSerializer
from calls.api.widget_gate import WidgetOriginGateMixin, has_owner_credentials
from calls.selectors import named_slug, startable_character, startable_keys, startable_version
from calls.throttling import SessionStartIPThrottle
from characters.validators import SESSION_OVERRIDE_KEYS
from oshara.http.json_input import StrictJSONParser, peek_data
from oshara.http.transactions import Untransacted
from oshara.schema import error_response

UNKNOWN = "No active character has this slug."


class SessionLimitThrottled(Throttled):
    default_detail = "Too many sessions are running for this character's organization."


def check_overrides(request, character, overrides):
    """403 for an override the character does not let a page send. The Origin header is only
    a browser's word: without the owner's credentials, only `session_overrides` may be sent
    (never `version`)."""
    if has_owner_credentials(request, character):
        return
    allowed = [key for key in SESSION_OVERRIDE_KEYS if key in character.session_overrides]
    refused = [
        key
        for key in (*SESSION_OVERRIDE_KEYS, "version")
        if key in overrides and key not in allowed
    ]
    if refused:
        raise PermissionDenied(
            f"This character does not let a page override {', '.join(refused)}: without the "
            f"owner's credentials only the keys in its session_overrides setting may be sent "
            f"({', '.join(allowed) or 'none'})."
        )


@extend_schema(
    tags=["calls"],
    summary="Start a call: a LiveKit token and a session",
    description="Gated by the `Origin` header against the character's `allowed_origins` "
    "(exact scheme, host and port), or by the owner's own credentials without an Origin. "
    "Overrides apply to this session only; unknown keys are a 400. Without the owner's "
    "credentials only the keys in the character's `session_overrides` may be sent (by "
    "default `language`, `origin_url`, `metadata`); any other is a 403 naming it.",
    request=SessionStartSerializer,
    parameters=[
        OpenApiParameter(
            "Origin", str, OpenApiParameter.HEADER, description="The embedding page's origin."
        )
    ],
    responses={
        200: SessionStartResponseSerializer,
        403: error_response(
            403,
            "The Origin is missing or not allowed for this character, or an override not in "
            "its session_overrides was sent without the owner's credentials.",
        ),
        404: error_response(404, UNKNOWN),
        429: error_response(
            429, "Throttled, or the organization's MAX_CONCURRENT_SESSIONS reached."
        ),
        503: error_response(503, "LiveKit is not configured on this server."),
    },
)
class SessionStartView(Untransacted, WidgetOriginGateMixin, APIView):
    """Reads come from the widget cache (calls/selectors.py) and the write runs in autocommit
    (services.start_session): no transaction is held open around the request."""

    permission_classes = [AllowAny]
    parser_classes = [StrictJSONParser]

    def post(self, request):
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        overrides = dict(serializer.validated_data)
        character = startable_character(overrides.pop("agent"), self.throttle.found)
        if character is None:
            raise NotFound(UNKNOWN)
        origin = request.headers.get("Origin")
        started_by = self.check_caller(request, character)
        check_overrides(request, character, overrides)
        if (number := overrides.pop("version", None)) is not None:
            character = startable_version(character, number)
            if character is None:
                raise ValidationError({"version": [f"This character has no version {number}."]})
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
                started_by=started_by,
            )
        except services.CharacterGone:
            raise NotFound(UNKNOWN) from None
        except services.SessionLimitReached as exc:
            raise SessionLimitThrottled(
                wait=exc.retry_after,
                detail=f"This character's organization already has {exc.limit} sessions running.",
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
                "version": session.version,
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
        self.slug = named_slug(peek_data(self.request))
        self.throttle.read_keys = startable_keys(self.slug)
        return [self.throttle]

    def named_character_origins(self):
        slug = getattr(self, "slug", None)
        character = startable_character(slug, self.throttle.found) if slug else None
        return character.allowed_origins if character else None
