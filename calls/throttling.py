"""Abuse limits of the call endpoints (rates read from settings at request time)."""

from oshara.http.throttling import WindowCounterThrottle


class SessionStartIPThrottle(WindowCounterThrottle):
    """Session starts per client address, whoever is asking (widget or backend)."""

    scope = "session_start_ip"
    rate_setting = "SESSION_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WorkerIPThrottle(WindowCounterThrottle):
    """The worker's calls per address, at the API's rate (a wrong key is counted too)."""

    scope = "agent_worker_ip"
    rate_setting = "API_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
