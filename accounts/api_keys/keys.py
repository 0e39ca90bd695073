"""The key format and its digest: `sk_` + 64 lower-case hex characters."""

import hashlib
import hmac
import re
import secrets

from accounts.api_keys.models import (
    KEY_PREFIX,
    LOOKUP_HEX_CHARS,
    PREVIEW_SEPARATOR,
    RANDOM_HEX_CHARS,
)

KEY_PATTERN = re.compile(rf"{KEY_PREFIX}[0-9a-f]{{{RANDOM_HEX_CHARS}}}")


def generate():
    return KEY_PREFIX + secrets.token_hex(RANDOM_HEX_CHARS // 2)


def is_well_formed(raw):
    return isinstance(raw, str) and KEY_PATTERN.fullmatch(raw) is not None


def lookup_prefix(key):
    return key[len(KEY_PREFIX) : len(KEY_PREFIX) + LOOKUP_HEX_CHARS]


def digest(key):
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def matches(key, hashed_key):
    return hmac.compare_digest(digest(key), hashed_key)


def preview(key):
    """The first 5 and last 4 characters: enough to tell keys apart, useless to an attacker."""
    return f"{key[:5]}{PREVIEW_SEPARATOR}{key[-4:]}"
