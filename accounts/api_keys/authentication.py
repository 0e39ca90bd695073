"""`X-API-Key: sk_…` authentication (DRF), listed before JWT so that a key wins over a token.

A request that carries the header is authenticated by it or refused with a 401: an unknown,
malformed or inactive key, or a deactivated user's, never falls back to another method or
to anonymous. The key and its user come from one indexed query.
"""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from accounts.api_keys import selectors, services
from accounts.throttling import FailedAPIKeyThrottle

HEADER = "X-API-Key"
META_KEY = "HTTP_X_API_KEY"  # WSGI upper-cases header names: any case is accepted
CHALLENGE = 'ApiKey realm="api"'


def carries_api_key(request):
    return META_KEY in request.META


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if not carries_api_key(request):
            return None
        throttle = FailedAPIKeyThrottle()
        if throttle.exhausted(request):
            raise Throttled(throttle.wait(), detail="Too many failed API key attempts.")
        api_key = selectors.active_key(request.META[META_KEY])
        if api_key is None:
            throttle.record_failure()
            raise AuthenticationFailed(
                "Invalid or inactive API key.", code="api_key_invalid"
            )  # never echoes the key
        services.record_use(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        """The challenge of the method the client tried (the key's, or the next method's)."""
        if not carries_api_key(request):
            for other in getattr(request, "authenticators", ()):
                if other is not self and (challenge := other.authenticate_header(request)):
                    return challenge
        return CHALLENGE
