"""Matching a browser's Origin header against a character's allowed_origins."""

from characters.validators import normalise_origin


def allowed_origin_set(allowed_origins):
    """The exact origins a character admits; each URL prefix counts by its origin part."""
    origins = (normalise_origin(entry) for entry in allowed_origins or [])
    return frozenset(origin for origin in origins if origin)


def origin_is_allowed(origin, allowed):
    """Exact scheme + host + port match; the common case is a single set lookup."""
    if not origin or not allowed:
        return False
    return origin in allowed or normalise_origin(origin, strict=True) in allowed
