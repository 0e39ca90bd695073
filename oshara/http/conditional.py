"""Conditional requests (RFC 9110): ETags, If-None-Match, If-Match, and the 412/409 errors."""

import hashlib

from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The character has changed since you fetched it: If-Match does not match its ETag."
    )
    default_code = "precondition_failed"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with a concurrent change; retry it."
    default_code = "conflict"


def representation_etag(data):
    """A strong ETag over the canonical (compact) JSON rendering of a representation."""
    return body_etag(JSONRenderer().render(data))


def body_etag(body):
    """The ETag of a representation already rendered as compact JSON bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:40]}"'


def _strip_weak(tag):
    return tag[2:] if tag.startswith("W/") else tag


def if_none_match(request, etag):
    """True when the client's copy is current (weak comparison, as RFC 9110 asks)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in {_strip_weak(tag) for tag in tags}


def if_match_fails(request, current_etag):
    """True when If-Match is present and names no current tag (strong comparison)."""
    header = request.headers.get("If-Match")
    if header is None:
        return False
    tags = parse_etags(header)
    return "*" not in tags and current_etag not in tags
