"""Abuse limits: DRF throttles whose rates come from settings at request time.

DRF's SimpleRateThrottle copies its rates when the module is imported; reading the Django
setting on every request keeps AUTH_THROTTLE_RATE / API_THROTTLE_RATE overridable (tests).
"""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.settings import api_settings


class SettingRateThrottle(SimpleRateThrottle):
    rate_setting = None

    def get_rate(self):
        return getattr(settings, self.rate_setting)

    def wait(self):
        # DRF leaves out Retry-After when the wait rounds down to zero; always send one.
        wait = super().wait()
        return None if wait is None else max(wait, 1)


class APIUserRateThrottle(SettingRateThrottle):
    """Per authenticated user; anonymous requests are counted per client address."""

    scope = "api"
    rate_setting = "API_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        token = request.auth
        # A credential that names its own budget (an API key: apart from its user's JWT).
        if hasattr(token, "throttle_ident"):
            ident = token.throttle_ident
        elif token is not None and api_settings.USER_ID_CLAIM in token:
            # The verified token's user id: no user query (see characters/authentication.py).
            ident = token[api_settings.USER_ID_CLAIM]
        elif request.user is not None and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AuthIPRateThrottle(SettingRateThrottle):
    """Log-in and sign-up attempts per client address."""

    scope = "auth_ip"
    rate_setting = "AUTH_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthEmailRateThrottle(SettingRateThrottle):
    """Log-in and sign-up attempts per e-mail address, whatever address they come from."""

    scope = "auth_email"
    rate_setting = "AUTH_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        from accounts.models import normalize_email  # DRF imports throttles before apps load

        data = request.data
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # nothing to count; the serializer rejects the request
        # Hashed: cache keys stay short, safe for any backend, and hold no address.
        ident = hashlib.sha256(normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


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
