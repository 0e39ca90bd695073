"""The voice worker's credential: `X-API-Key: <one of AGENT_WORKER_KEYS>`, in constant time.

The worker views name this class alone (not DRF's defaults), so a worker key is never taken
for a user's API key (`sk_...`, same header) and a user's key never admits a worker endpoint.
Wrong keys are counted per client address, as users' keys are (accounts/throttling.py).
"""

import hmac

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from calls.throttling import FailedWorkerKeyThrottle

HEADER = "X-API-Key"


def worker_keys():
    """Every key the worker may use: AGENT_WORKER_KEYS, and the older AGENT_WORKER_KEY.
    Read at request time, so a deployment's settings (and a test's) apply at once."""
    return [key for key in [*settings.AGENT_WORKER_KEYS, settings.AGENT_WORKER_KEY] if key]


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
        throttle = FailedWorkerKeyThrottle()
        if throttle.exhausted(request):
            raise Throttled(throttle.wait(), detail="Too many failed worker key attempts.")
        if not matches_a_key(sent.encode("utf-8", "surrogateescape"), worker_keys()):
            throttle.record_failure()
            raise AuthenticationFailed("Invalid worker key.")
        return (AgentWorker(), None)

    def authenticate_header(self, request):
        return HEADER  # makes a missing key a 401, not a 403


def matches_a_key(sent, keys):
    # Every key compared, none skipped: the time taken says nothing of which one matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(sent, key.encode())
    return matched
