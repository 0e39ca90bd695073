"""The voice worker's credential: `X-API-Key: <AGENT_WORKER_KEY>`, checked in constant time.

The worker views name this class alone (not DRF's defaults), so a worker key is never taken
for a user's API key (`sk_...`, same header) and a user's key never admits a worker endpoint.
"""

import hmac

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

HEADER = "X-API-Key"


class AgentWorker:
    """The authenticated voice worker: no user, no database row."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    pk = None

    def __str__(self):
        return "agent worker"


class WorkerKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        sent = request.headers.get(HEADER)
        if sent is None:
            return None
        expected = settings.AGENT_WORKER_KEY
        if not expected or not hmac.compare_digest(
            sent.encode("utf-8", "surrogateescape"), expected.encode()
        ):
            raise AuthenticationFailed("Invalid worker key.")
        return (AgentWorker(), None)

    def authenticate_header(self, request):
        return HEADER  # makes a missing key a 401, not a 403
