"""The Origin gate of the endpoints the widget calls from a visitor's browser.

The rule of the widget's appearance fetch (characters/widget/origins.py): the request's
Origin must be one of the character's allowed_origins, by exact scheme, host and port. The
owner's own credentials (JWT or API key) admit a request without an Origin, for a site's
backend acting for its page; `WIDGET_ALLOW_ANY_ORIGIN` (development only) admits any.
Only an admitted origin gets a CORS grant, and every answer varies on Origin.
"""

from django.conf import settings
from rest_framework.exceptions import PermissionDenied
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
        """Admit the owner, or an allowed Origin (remembered for the CORS grant); else 403."""
        origin = request.headers.get("Origin")
        if has_owner_credentials(request, character):
            return
        if settings.WIDGET_ALLOW_ANY_ORIGIN:
            request.cors_origin = origin
            return
        if not origin_is_allowed(origin, allowed_origin_set(character.allowed_origins)):
            raise PermissionDenied(
                "This origin is not allowed to embed this character."
                if origin
                else "An Origin header (or the owner's credentials) is required."
            )
        request.cors_origin = origin

    def preflight(self, request):
        """The 204 answer to a CORS preflight; the caller decides whether it is admitted."""
        response = Response(status=204)
        response["Access-Control-Allow-Methods"] = self.cors_methods
        if requested := request.headers.get("Access-Control-Request-Headers"):
            response["Access-Control-Allow-Headers"] = requested
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if origin := getattr(request, "cors_origin", None):
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin" if "Vary" not in response else response["Vary"] + ", Origin"
        return response
