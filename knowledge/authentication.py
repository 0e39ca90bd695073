"""The voice worker's keys for the knowledge-base query endpoint, narrowest first: a call
session's search key (its character only, knowledge/session_keys.py), or KB_QUERY_API_KEY
(any character)."""

import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from knowledge import session_keys


class KBQueryWorker:
    """The voice worker: it may search any character's knowledge base, and only that."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __str__(self):
        return "knowledge-base query worker"


KB_QUERY_WORKER = KBQueryWorker()


class SessionSearcher:
    """The voice worker in one call: it may search that session's character, and only that."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __init__(self, character_id):
        self.character_id = character_id

    def __str__(self):
        return "call session's knowledge-base search"


class KBQueryKeyAuthentication(BaseAuthentication):
    """`X-API-Key` holding a session search key or equal to KB_QUERY_API_KEY is the worker.
    Any other value (a wrongly signed session key included) is left to the classes after
    this one (users' own API keys share the header): they refuse it and count the failure."""

    def authenticate(self, request):
        presented = request.META.get("HTTP_X_API_KEY")
        if presented is None:
            return None
        if session_keys.is_session_key(presented):
            return self.session_search(presented)
        expected = settings.KB_QUERY_API_KEY
        # Bytes: compare_digest refuses non-ASCII str, and a header may carry anything.
        if expected and hmac.compare_digest(
            presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8")
        ):
            return (KB_QUERY_WORKER, None)
        return None

    def session_search(self, presented):
        session_id = session_keys.signed_session_id(presented)
        if session_id is None:
            return None
        key = session_keys.live_key(session_id)
        if key is None:
            raise AuthenticationFailed("This session search key has expired.")
        return (SessionSearcher(key.character_id), key)


class KBQueryKeyScheme(OpenApiAuthenticationExtension):
    target_class = KBQueryKeyAuthentication
    name = "KBQueryKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The voice worker's key: a call session's search key "
            "(`kb_query_api_key` of the session's runtime; that character only) or the "
            "KB_QUERY_API_KEY setting (any character).",
        }
