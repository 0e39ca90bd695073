"""Abuse limits: DRF throttles whose rates come from settings at request time.

DRF's SimpleRateThrottle copies its rates when the module is imported; reading the Django
setting on every request keeps AUTH_THROTTLE_RATE / API_THROTTLE_RATE overridable (tests).
"""

import contextlib
import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.settings import api_settings

logger = logging.getLogger("oshara.cache")


class SettingRateThrottle(SimpleRateThrottle):
    rate_setting = None

    def get_rate(self):
        return getattr(settings, self.rate_setting)

    def wait(self):
        # DRF leaves out Retry-After when the wait rounds down to zero; always send one.
        wait = super().wait()
        return None if wait is None else max(wait, 1)


def count_hit(key, previous_key, timeout):
    """Add one to `key`'s counter (created with `timeout` seconds to live); returns it with
    `previous_key`'s count, or None when the cache is unreachable. On Redis one round trip:
    SET NX EX, INCR and GET pipelined."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        # Local memory: each call takes its lock, nothing crosses a network.
        cache.add(key, 0, timeout)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: this hit opens a new counter
            cache.add(key, 1, timeout)
            count = 1
        return count, cache.get(previous_key, 0)
    name = cache.client.make_key(key)
    try:
        with cache.client.get_client(write=True).pipeline(transaction=False) as pipeline:
            pipeline.set(name, 0, ex=timeout, nx=True)
            pipeline.incr(name)
            pipeline.get(cache.client.make_key(previous_key))
            _, count, previous = pipeline.execute()
    except (RedisError, OSError):
        logger.warning("throttle counter unreachable, request allowed", exc_info=True)
        return None  # fail open, as django-redis's IGNORE_EXCEPTIONS does for the caches
    return count, int(previous or 0)


class WindowCounterThrottle(SettingRateThrottle):
    """A sliding-window counter: the requests allowed in this window plus the previous
    window's, weighted by how much of it the sliding window still covers, against the rate.

    A second implementation of DRF's limit, kept because the benchmark shows it pays: DRF's
    SimpleRateThrottle GETs the whole pickled history of the window and SETs it back, two
    Redis round trips and up to API_THROTTLE_RATE timestamps per request; that was ~50 % of an
    in-process retrieve on PostgreSQL + Redis. This is one pipelined round trip of three small
    commands. Measured on Redis in one process (medians of 1,000 calls, 2026-12-01): DRF
    0.12-0.28 ms per request, 0.22-0.24 ms with a full window's history; this 0.06-0.10 ms.
    In `make bench` on PostgreSQL + Redis the retrieve went from 0.30 to 0.69 of the one-SQL
    floor and the list of 100 from 0.18 to 0.33 (bench/README.md). Exact under concurrency:
    INCR is atomic, and a refused request gives its count back (DECR), so counters hold only
    what was allowed. Redis down: the request is allowed and the error logged to oshara.cache.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window, elapsed = divmod(self.now, self.duration)
        self.remaining = self.duration - elapsed
        current = f"{self.key}_{int(window)}"
        counts = count_hit(current, f"{self.key}_{int(window) - 1}", 2 * self.duration)
        if counts is None:
            return True
        self.count, self.previous = counts
        weight = self.remaining / self.duration
        if self.previous * weight + self.count <= self.num_requests:
            return True
        self.count -= 1
        with contextlib.suppress(ValueError):  # already expired: nothing to give back
            caches["default"].decr(current)
        return False

    def wait(self):
        """Retry-After: until the previous window's share has shrunk enough for one more
        request, or the rest of this window when this window alone is full (at least 1 s)."""
        room = self.num_requests - self.count - 1
        if room < 0 or not self.previous:
            wait = self.remaining
        else:
            # previous * remaining' / duration <= room  <=>  remaining' <= room * duration / prev
            wait = self.remaining - room * self.duration / self.previous
        return max(math.ceil(wait), 1)


class APIUserRateThrottle(WindowCounterThrottle):
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


class AuthIPRateThrottle(WindowCounterThrottle):
    """Log-in and sign-up attempts per client address."""

    scope = "auth_ip"
    rate_setting = "AUTH_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def email_of(request):
    """The address a log-in or sign-up names: `email` in the API, `username` in the admin."""
    data = request.data if hasattr(request, "data") else request.POST
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
        from accounts.models import normalize_email  # DRF imports throttles before apps load

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


class WidgetIPRateThrottle(WindowCounterThrottle):
    """The widget's public fetch, per client address: the window counter above, one cache
    round trip and no SQL, so the hottest path pays little for its abuse limit."""

    scope = "widget"
    rate_setting = "WIDGET_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


AUTH_THROTTLES = [AuthIPRateThrottle, AuthEmailRateThrottle]
