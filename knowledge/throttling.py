"""Abuse limits of knowledge-base search (rates read from settings at request time)."""

from oshara.http.throttling import PerAddressThrottle


class KBQueryKeyThrottle(PerAddressThrottle):
    """Searches with the service-wide KB_QUERY_API_KEY, per client address: the key reaches
    every character, so a leaked copy must not make the service an embedding oracle."""

    scope = "kb_query_key"
    rate_setting = "KB_QUERY_KEY_THROTTLE_RATE"
