"""The voice worker's key for the knowledge-base query endpoint (KB_QUERY_API_KEY)."""

import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication


class KBQueryWorker:
    """The voice worker: it may search any character's knowledge base, and only that."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __str__(self):
        return "knowledge-base query worker"


KB_QUERY_WORKER = KBQueryWorker()


class KBQueryKeyAuthentication(BaseAuthentication):
    """`X-API-Key` equal to KB_QUERY_API_KEY is the worker. Any other value is left to the
    classes after this one (users' own API keys share the header), so it never fails."""

    def authenticate(self, request):
        expected = settings.KB_QUERY_API_KEY
        presented = request.META.get("HTTP_X_API_KEY")
        if not expected or presented is None:
            return None
        # Bytes: compare_digest refuses non-ASCII str, and a header may carry anything.
        if hmac.compare_digest(
            presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8")
        ):
            return (KB_QUERY_WORKER, None)
        return None


class KBQueryKeyScheme(OpenApiAuthenticationExtension):
    target_class = KBQueryKeyAuthentication
    name = "KBQueryKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The voice worker's key (the KB_QUERY_API_KEY setting).",
        }
