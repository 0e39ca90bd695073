"""The abuse limits of /api/auth/ and X-API-Key: log-ins and sign-ups per client address and
per e-mail address (the API's and the admin's login alike), failed API keys per address."""

import hashlib

from rest_framework.request import Request

from accounts.emails import normalize_email
from oshara.http.json_input import peek_data
from oshara.http.throttling import PerAddressThrottle, SettingRateThrottle


class AuthIPRateThrottle(PerAddressThrottle):
    """Log-in and sign-up attempts per client address."""

    scope = "auth_ip"
    rate_setting = "AUTH_THROTTLE_RATE"


def email_of(request):
    """The address a log-in or sign-up names: `email` in the API, `username` in the admin."""
    # peek_data: a refused body names no address, and the view still answers its 400 (not
    # hasattr(request, "data"), which parses the body and raises the refusal here).
    data = peek_data(request) if isinstance(request, Request) else request.POST
    if not hasattr(data, "get"):
        return None
    email = data.get("email", data.get("username"))
    return email if isinstance(email, str) and email.strip() else None


class AuthEmailRateThrottle(SettingRateThrottle):
    """Failed log-ins per e-mail address, whatever client address they come from.

    Once an address has AUTH_THROTTLE_RATE failures, only clients with failures of their own
    in that window are refused: a stranger guessing passwords cannot lock the owner out, as
    an IP with no recent failure still gets to try. Failures are counted by `record_failure`
    (the `user_login_failed` signal, sent by every `authenticate()`: API and admin alike).
    """

    scope = "auth_email"
    rate_setting = "AUTH_THROTTLE_RATE"

    @classmethod
    def key_for(cls, email):
        # Hashed: cache keys stay short, safe for any backend, and hold no address;
        # surrogatepass: an unpaired surrogate is a refused e-mail, not an encoding error.
        ident = hashlib.sha256(normalize_email(email).encode("utf-8", "surrogatepass"))
        return cls.cache_format % {"scope": cls.scope, "ident": ident.hexdigest()}

    def get_cache_key(self, request, view):
        email = email_of(request)
        return None if email is None else self.key_for(email)

    def throttle_success(self):
        return True  # only failures are counted

    def throttle_failure(self):
        return not self.cache.get(failed_ip_key(self.request_ident))

    def allow_request(self, request, view):
        self.request_ident = self.get_ident(request)
        return super().allow_request(request, view)

    def record_failure(self, request, email):
        key = self.key_for(email)
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - self.duration]
        self.cache.set(key, [now, *history][: self.num_requests + 1], self.duration)
        self.cache.set(failed_ip_key(self.get_ident(request)), True, self.duration)


def failed_ip_key(ident):
    return f"throttle_auth_failed_ip_{ident}"


class FailedAPIKeyThrottle(SettingRateThrottle):
    """Failed X-API-Key attempts per client address; once used up, every key attempt from that
    address is refused until the window passes. Called by the authentication class itself:
    DRF runs throttles only after authentication succeeded."""

    scope = "api_key_failures"
    rate_setting = "API_KEY_FAILURE_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exhausted(self, request):
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) >= self.num_requests

    def record_failure(self):
        """After exhausted(): count one more failure."""
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


AUTH_THROTTLES = [AuthIPRateThrottle, AuthEmailRateThrottle]
