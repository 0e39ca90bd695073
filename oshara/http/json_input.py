"""Strict JSON input, the one parser of every JSON body (DRF's default parser in settings).

Python's parser recurses once per nesting level (RecursionError near 1,000 levels), accepts
`NaN`, `1e999` (infinity), unpaired `\\ud800` escapes, `\\u0000` and repeated keys (the last
one silently wins), and turns a 5,000-digit number into a ValueError of its own. No database
or UTF-8 encoder takes the first ones, PostgreSQL refuses NUL in text and JSON, and a number
past 64 bits overflows every integer column. Each is a 400 naming the problem here, so no
accepted value can make a later read or write fail. Every JSON body, and every JSON text
inside a multipart form, is read through `loads`.
"""

import json
import math
import re

from django.conf import settings
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.request import Empty

# Integers a 64-bit column (BigIntegerField, PostgreSQL's bigint) can hold.
MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)
NUL_MESSAGE = "Must not contain NUL characters."
NUMBER_MESSAGE = "Numbers must be 64-bit integers or finite decimals."
# NUL, and every surrogate: a well-formed pair is one character once parsed, so any left
# is unpaired.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class JSONInputError(ValueError):
    """The text is not acceptable JSON; the message says why (safe to show the client).
    `detail`, the API's answer: the message, or errors keyed by the offending value's path."""

    def __init__(self, message, detail=None):
        super().__init__(message)
        self.detail = message if detail is None else detail


def refuse_constant(name):
    raise JSONInputError(f"{name} is not valid JSON.")


class OutOfRange:
    """A number no column takes, left in place by the parser for `check` to name its path."""


OUT_OF_RANGE = OutOfRange()


def parse_int(text):
    # Not converted past 19 digits: int() of thousands of digits is slow, then raises.
    return int(text) if len(text.lstrip("-")) <= 19 else OUT_OF_RANGE


def parse_float(text):
    number = float(text)
    return OUT_OF_RANGE if number in (math.inf, -math.inf) else number


def unique_keys(pairs):
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise JSONInputError(f'Duplicate key "{printable(repeated)}" in a JSON object.')
    return value


def loads(text, max_depth=None):
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(
            text,
            parse_constant=refuse_constant,
            parse_int=parse_int,
            parse_float=parse_float,
            object_pairs_hook=unique_keys,
        )
    except RecursionError:
        raise JSONInputError(f"JSON nested deeper than {max_depth} levels.") from None
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"JSON parse error - {exc}") from None
    check(value, max_depth)
    return value


def depth_exceeds(value, max_depth):
    """Whether containers nest deeper than max_depth (iterative: no recursion limit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def check(value, max_depth):
    """Refuse what no column takes. Most bodies are clean: one quick walk, level by level,
    checks the depth and finds whether anything is at fault (a few microseconds); only then
    the walk that names the fault's path."""
    level, depth = [value], 1
    while level:
        below = []
        for item in level:
            if isinstance(item, dict):
                if depth > max_depth:
                    raise JSONInputError(f"JSON nested deeper than {max_depth} levels.")
                if any(BAD_TEXT.search(key) for key in item):
                    name_fault(value)
                below.extend(item.values())
            elif isinstance(item, list):
                if depth > max_depth:
                    raise JSONInputError(f"JSON nested deeper than {max_depth} levels.")
                below.extend(item)
            elif isinstance(item, str):
                if BAD_TEXT.search(item):
                    name_fault(value)
            elif item is OUT_OF_RANGE or (
                type(item) is int and not MIN_INTEGER <= item <= MAX_INTEGER
            ):
                name_fault(value)
        level, depth = below, depth + 1


def name_fault(value):
    stack = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, (*path, printable(key)))
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(item))
        elif isinstance(item, str):
            check_text(item, path)
        elif item is OUT_OF_RANGE or (
            isinstance(item, int) and not MIN_INTEGER <= item <= MAX_INTEGER
        ):
            refuse(NUMBER_MESSAGE, path)


def check_text(text, path):
    if has_lone_surrogate(text):
        raise JSONInputError("JSON strings must not contain unpaired surrogates (\\ud800).")
    if "\x00" in text:
        refuse(NUL_MESSAGE, path)


def refuse(message, path):
    """A 400 named like a field's own error, at the path of the value (or key) at fault."""
    detail = [message]
    for name in reversed(path):
        detail = {name: detail}
    where = f" (at {'.'.join(path)})" if path else ""
    raise JSONInputError(message + where, detail if path else None)


def has_lone_surrogate(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text):
    """A key fit to echo in an error: NUL and unpaired surrogates escaped."""
    if "\x00" in text or has_lone_surrogate(text):
        return text.encode("unicode_escape").decode("ascii")
    return text


class StrictJSONParser(JSONParser):
    """DRF's JSONParser through `loads`: each refusal is a 400 naming the reason."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            return loads(stream.read().decode(encoding))
        except UnicodeDecodeError:
            raise ParseError("JSON must be UTF-8 text.") from None
        except JSONInputError as exc:
            raise ParseError(exc.detail) from None


def peek_data(request):
    """The body, for a throttle (which runs before the view): None when it is refused.

    DRF keeps an empty body after a refusal, so the view would go on with `{}`. For a JSON
    body (read from memory, so it can be read again) the refusal is forgotten here and the
    view's own `request.data` raises it again: the throttles count a refused body, and an
    exhausted client gets its 429 before any 400.
    """
    try:
        return request.data
    except UnsupportedMediaType:
        forget_parsed_body(request)
        return None
    except ParseError:
        if not isinstance(request.negotiator.select_parser(request, request.parsers), JSONParser):
            raise  # a multipart stream is read once: refused now
        forget_parsed_body(request)
        return None


def forget_parsed_body(request):
    # DRF's own "not parsed yet" marker (Request.__init__).
    request._data = request._files = request._full_data = Empty
