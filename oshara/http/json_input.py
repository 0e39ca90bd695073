"""Strict JSON input: bounded nesting, no NaN/Infinity, no lone surrogates.

Python's parser recurses once per nesting level (RecursionError near 1,000 levels) and
accepts `NaN` and unpaired `\\ud800` escapes, which no database or UTF-8 encoder takes.
Every JSON body, and every JSON text inside a multipart form, is read through `loads`.
"""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONInputError(ValueError):
    """The text is not acceptable JSON; the message says why (safe to show the client)."""


def refuse_constant(name):
    raise JSONInputError(f"{name} is not valid JSON.")


def loads(text, max_depth=None):
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(text, parse_constant=refuse_constant)
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
    if depth_exceeds(value, max_depth):
        raise JSONInputError(f"JSON nested deeper than {max_depth} levels.")
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and has_lone_surrogate(item):
            raise JSONInputError("JSON strings must not contain unpaired surrogates (\\ud800).")


def has_lone_surrogate(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class StrictJSONParser(JSONParser):
    """DRF's JSONParser through `loads`: each refusal is a 400 naming the reason."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            return loads(stream.read().decode(encoding))
        except UnicodeDecodeError:
            raise ParseError("JSON must be UTF-8 text.") from None
        except JSONInputError as exc:
            raise ParseError(str(exc)) from None
