"""Organization slugs: derived from a name or an e-mail address, unique with a short suffix."""

import secrets

from django.utils.text import slugify

from accounts.organizations.models import SLUG_MAX_LENGTH

SUFFIX_HEX = 6


def base_slug(text):
    """A slug-shaped stem of `text` (ASCII letters, digits and dashes), never empty; of an
    e-mail address, its local part."""
    text = text.partition("@")[0] if "@" in text else text
    return slugify(text)[: SLUG_MAX_LENGTH - SUFFIX_HEX - 1].strip("-_") or "org"


def candidates(text):
    """The stem itself, then the stem with random suffixes: the caller takes the first free."""
    stem = base_slug(text)
    yield stem
    while True:
        yield f"{stem}-{secrets.token_hex(SUFFIX_HEX // 2)}"
