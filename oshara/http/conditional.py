"""Conditional requests (RFC 9110): ETags naming a version, the preconditions evaluated by
Django's `get_conditional_response`, and the 412/409 errors."""

import copy
import hashlib

from django.utils.cache import get_conditional_response
from rest_framework import status
from rest_framework.exceptions import APIException

# Only the ETag conditions are evaluated: a resource whose representation also changes with
# rows other than its own has no honest modification date, and RFC 9110 (13.1.3, 13.1.4)
# then asks to ignore If-Modified-Since and If-Unmodified-Since (Django, given no date,
# would fail the latter).
ETAG_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")


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


def version_etag(*parts):
    """A strong ETag naming one version of a resource: a digest of its version key (no body
    is hashed, and nothing of the request, such as its host, takes part)."""
    text = "\x1f".join(str(part) for part in parts)
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:40]}"'


def evaluate_preconditions(request, etag):
    """If-Match and If-None-Match against the current `etag`, in RFC 9110's order.

    Returns None when the request may go on, or a 304 (GET/HEAD whose copy is current,
    carrying the ETag); raises PreconditionFailed where the RFC answers 412.
    """
    http_request = getattr(request, "_request", request)
    conditions = copy.copy(http_request)
    conditions.META = {
        name: http_request.META[name] for name in ETAG_CONDITIONS if name in http_request.META
    }
    response = get_conditional_response(conditions, etag=etag)
    if response is None:
        return None
    if response.status_code == status.HTTP_412_PRECONDITION_FAILED:
        raise PreconditionFailed()
    response["ETag"] = etag
    return response
