"""Abuse limits: DRF throttles whose rates come from settings at request time.

DRF's SimpleRateThrottle copies its rates when the module is imported; reading the Django
setting on every request keeps AUTH_THROTTLE_RATE / API_THROTTLE_RATE overridable (tests).
"""

import contextlib
import hashlib
import ipaddress
import logging
import math

from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.exceptions import NoScriptError, RedisError
from rest_framework.settings import api_settings as drf_settings
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

    def get_ident(self, request):
        return client_ident(request)


def client_ident(request):
    """DRF's client address (NUM_PROXIES picks it from X-Forwarded-For), read from META:
    DRF's own reads `request.headers`, which builds a mapping of every header first,
    8.5 us a request (one process, 2026-12-01), 1-2 % of the widget's appearance fetch,
    whose floor pays nothing of the kind. Every throttle here counts per this address."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    remote_addr = request.META.get("REMOTE_ADDR")
    num_proxies = drf_settings.NUM_PROXIES
    if num_proxies is not None:
        if num_proxies == 0 or forwarded is None:
            return remote_addr
        addresses = forwarded.split(",")
        return addresses[-min(num_proxies, len(addresses))].strip()
    return "".join(forwarded.split()) if forwarded else remote_addr


def client_address(request):
    """The client's IP address by the throttles' rule, to record; None when what a proxy
    forwarded is not an IP address (it is only a header)."""
    try:
        return str(ipaddress.ip_address(client_ident(request) or ""))
    except ValueError:
        return None


# KEYS: the counter, the previous window's counter, the keys read along; ARGV: the timeout.
# One command and one reply where a pipeline of the three sent three of each: 0.13 against
# 0.15-0.16 ms a call, and the cache floor's GET 0.12 (one process, local Redis, best of 7 x
# 3,000, 2026-12-01), the appearance fetch's whole overhead over its floor. The counter's
# lifetime is set once, by the hit that creates it (a script runs atomically, so no hit sees
# it without one): one write a hit instead of SET NX EX and INCR.
COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local found = redis.call('MGET', unpack(KEYS, 2))
table.insert(found, 1, count)
return found
"""
COUNT_HIT_SHA = hashlib.sha1(COUNT_HIT.encode()).hexdigest()  # EVALSHA names scripts so


def count_hit(key, previous_key, timeout, read=()):
    """Add one to `key`'s counter (created with `timeout` seconds to live); returns it with
    `previous_key`'s count and the cache's values of the `read` keys (a dict, as get_many),
    or None when the cache is unreachable. On Redis one round trip: COUNT_HIT, a script of
    INCR (EXPIRE on the first hit) and one MGET of the previous count and the reads."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        # Local memory: each call takes its lock, nothing crosses a network.
        cache.add(key, 0, timeout)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: this hit opens a new counter
            cache.add(key, 1, timeout)
            count = 1
        return count, cache.get(previous_key, 0), cache.get_many(read) if read else {}
    client = cache.client
    names = [client.make_key(k) for k in (key, previous_key, *read)]
    redis = client.get_client(write=True)
    try:
        try:
            count, previous, *values = redis.evalsha(COUNT_HIT_SHA, len(names), *names, timeout)
        except NoScriptError:  # the server's first call (or after a restart): load it
            count, previous, *values = redis.eval(COUNT_HIT, len(names), *names, timeout)
    except (RedisError, OSError):
        logger.warning("throttle counter unreachable, request allowed", exc_info=True)
        return None  # fail open, as django-redis's IGNORE_EXCEPTIONS does for the caches
    found = {k: client.decode(v) for k, v in zip(read, values, strict=True) if v is not None}
    return count, int(previous or 0), found


class WindowCounterThrottle(SettingRateThrottle):
    """A sliding-window counter: the requests allowed in this window plus the previous
    window's, weighted by how much of it the sliding window still covers, against the rate.

    A second implementation of DRF's limit, kept because the benchmark shows it pays: DRF's
    SimpleRateThrottle GETs the whole pickled history of the window and SETs it back, two
    Redis round trips and up to API_THROTTLE_RATE timestamps per request; that was ~50 % of an
    in-process retrieve on PostgreSQL + Redis. This is one round trip of one script of three small
    commands. Measured on Redis in one process (medians of 1,000 calls, 2026-12-01): DRF
    0.12-0.28 ms per request, 0.22-0.24 ms with a full window's history; this 0.06-0.10 ms.
    In `make bench` on PostgreSQL + Redis the retrieve went from 0.30 to 0.69 of the one-SQL
    floor and the list of 100 from 0.18 to 0.33 (bench/README.md). Exact under concurrency:
    INCR is atomic, and a refused request gives its count back (DECR), so counters hold only
    what was allowed. Redis down: the request is allowed and the error logged to oshara.cache.
    """

    # Cache keys the view reads anyway, fetched in the counter's round trip; their values
    # are in `self.found` afterwards (None when the counter was not reached).
    read_keys = ()
    found = None

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
        previous = f"{self.key}_{int(window) - 1}"
        counts = count_hit(current, previous, 2 * self.duration, self.read_keys)
        if counts is None:
            return True
        self.count, self.previous, self.found = counts
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


class PerAddressThrottle(WindowCounterThrottle):
    """A window counter per client address (NUM_PROXIES decides which address that is)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


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


class WidgetIPRateThrottle(PerAddressThrottle):
    """The widget's public fetch, per client address: the window counter above, one cache
    round trip and no SQL, so the hottest path pays little for its abuse limit."""

    scope = "widget"
    rate_setting = "WIDGET_THROTTLE_RATE"
