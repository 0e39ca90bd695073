"""Abuse limits of the call endpoints (rates read from settings at request time)."""

import re

from accounts.throttling import FailedAPIKeyThrottle
from calls.models import SESSION_ID_PATTERN
from oshara.http.json_input import peek_data
from oshara.http.throttling import PerAddressThrottle, WindowCounterThrottle

SESSION_ID = re.compile(SESSION_ID_PATTERN)


class SessionStartIPThrottle(PerAddressThrottle):
    """Session starts per client address, whoever is asking (widget or backend)."""

    scope = "session_start_ip"
    rate_setting = "SESSION_THROTTLE_RATE"


class WorkerIPThrottle(PerAddressThrottle):
    """The worker's calls per address, at the API's rate (a wrong key is counted too)."""

    scope = "agent_worker_ip"
    rate_setting = "API_THROTTLE_RATE"


class FailedWorkerKeyThrottle(FailedAPIKeyThrottle):
    """Wrong worker keys per client address, at users' keys' rate but counted apart; once
    used up, every worker key from that address is a 429 until the window passes."""

    scope = "agent_worker_key_failures"


class FormResponseIPThrottle(PerAddressThrottle):
    """Form submissions per client address."""

    scope = "form_response_ip"
    rate_setting = "FORM_RESPONSE_THROTTLE_RATE"


class FormResponseSessionThrottle(WindowCounterThrottle):
    """Form submissions per call session, whichever address sends them. A body without a
    well-formed session id (or a refused body) is not counted here, only per address: it is
    refused before anything is stored."""

    scope = "form_response_session"
    rate_setting = "FORM_RESPONSE_SESSION_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        data = peek_data(request)
        session_id = data.get("session_id") if isinstance(data, dict) else None
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return None
        return self.cache_format % {"scope": self.scope, "ident": session_id}
