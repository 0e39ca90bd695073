"""The Origin gate of the endpoints the widget calls from a visitor's browser.

The rule of the widget's appearance fetch (characters/widget/origins.py): the request's
Origin must be one of the character's allowed_origins, by exact scheme, host and port. The
owner's own credentials (JWT or API key) admit a request without an Origin, for a site's
backend acting for its page; `WIDGET_ALLOW_ANY_ORIGIN` (development only) admits any.
Only an admitted origin gets a CORS grant (on an error too, so the widget can read it: see
error_reader), and every answer varies on Origin.
"""

from django.conf import settings
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, Throttled
from rest_framework.response import Response

from characters.widget.origins import allowed_origin_set, origin_is_allowed

PREFLIGHT_MAX_AGE = "600"


def has_owner_credentials(request, character):
    """Whether the request authenticated as the character's owner (JWT or API key): a site's
    backend, trusted with more than a page whose Origin header anyone can forge."""
    user = request.user
    return user is not None and user.is_authenticated and user.pk == character.owner_id


class WidgetOriginGateMixin:
    cors_methods = "POST, OPTIONS"

    def check_caller(self, request, character):
        """Admit the owner, or an allowed Origin (remembered for the CORS grant); else 403.
        Returns the id of the user admitted by their credentials, None for a browser."""
        origin = request.headers.get("Origin")
        if has_owner_credentials(request, character):
            return request.user.pk
        if settings.WIDGET_ALLOW_ANY_ORIGIN:
            request.cors_origin = origin
            return None
        if not origin_is_allowed(origin, allowed_origin_set(character.allowed_origins)):
            raise PermissionDenied(
                "This origin is not allowed to embed this character."
                if origin
                else "An Origin header (or the owner's credentials) is required."
            )
        request.cors_origin = origin
        return None

    def preflight(self, request):
        """The 204 answer to a CORS preflight; the caller decides whether it is admitted."""
        response = Response(status=204)
        response["Access-Control-Allow-Methods"] = self.cors_methods
        if requested := request.headers.get("Access-Control-Request-Headers"):
            response["Access-Control-Allow-Headers"] = requested
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    def named_character_origins(self):
        """The allowed origins (a set) of the active character the request names, or None."""
        raise NotImplementedError

    def handle_exception(self, exc):
        # Decided here, before DRF's handler marks the request's transaction for rollback
        # (which would refuse the lookup's query on a cache miss).
        origin = self.request.headers.get("Origin")
        if origin and not getattr(self.request, "cors_origin", None):
            self.request.cors_origin = self.error_reader(origin, exc)
        return super().handle_exception(exc)

    def error_reader(self, origin, exc):
        """`origin` if it may read the error `exc`, else None.

        The widget must read an error (its detail, a 429's Retry-After) to show it, so an
        error about a character is granted to the character's allowed origins, even when it
        is answered before the gate ran (a bad body). A throttle's 429 is answered before any
        lookup (which it is there to spare) and says nothing about the character, so it is
        granted as the appearance's is. A 403 (the origin is not allowed) or 404 (no such
        active character) never is.
        """
        if not isinstance(exc, APIException) or isinstance(exc, PermissionDenied | NotFound):
            return None
        if isinstance(exc, Throttled) or settings.WIDGET_ALLOW_ANY_ORIGIN:
            return origin
        allowed = self.named_character_origins()
        return origin if allowed and origin_is_allowed(origin, allowed) else None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if origin := getattr(request, "cors_origin", None):
            response["Access-Control-Allow-Origin"] = origin
            if "Retry-After" in response:
                response["Access-Control-Expose-Headers"] = "Retry-After"
        response["Vary"] = "Origin" if "Vary" not in response else response["Vary"] + ", Origin"
        return response
