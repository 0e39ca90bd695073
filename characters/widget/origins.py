"""Matching a browser's Origin header against a character's allowed_origins."""

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(url, *, strict=False):
    """ "scheme://host[:port]" in the form browsers send, or None if `url` has no usable origin.

    Lower-case scheme and host, IDNA host, default port dropped, path/query ignored, so
    "HTTPS://Acme.com:443/widgets" -> "https://acme.com". `strict` (for an Origin header)
    refuses anything beyond an origin: a path, query, fragment or credentials.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except (TypeError, ValueError, AttributeError):
        return None
    if strict and (
        parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    ):
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origin_set(allowed_origins):
    """The exact origins a character admits; each URL prefix counts by its origin part."""
    origins = (normalise_origin(entry) for entry in allowed_origins or [])
    return frozenset(origin for origin in origins if origin)


def origin_is_allowed(origin, allowed):
    """Exact scheme + host + port match; the common case is a single set lookup."""
    if not origin or not allowed:
        return False
    return origin in allowed or normalise_origin(origin, strict=True) in allowed
