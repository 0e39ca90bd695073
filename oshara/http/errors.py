"""Keep every error under /api/ a JSON body, whatever raised it, and cap request sizes."""

import logging

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("oshara.errors")

TOO_LARGE = "Request body is too large."


def is_api_request(request):
    return request.path.startswith("/api/")


def error_response(request, status, detail):
    if is_api_request(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain")


def nul_response(request, names):
    message = "Must not contain NUL characters."
    if is_api_request(request):
        return JsonResponse(
            {name.replace("\x00", "\\x00"): [message] for name in names}, status=400
        )
    return HttpResponse(f"Query parameters: {message}", status=400, content_type="text/plain")


def too_large_response(request):
    return error_response(request, 413, TOO_LARGE)


def request_body_limit(request):
    """Uploads may be as large as REQUEST_MAX_BYTES; any other body, DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.content_type == "multipart/form-data":
        return settings.REQUEST_MAX_BYTES
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.REQUEST_MAX_BYTES if limit is None else min(limit, settings.REQUEST_MAX_BYTES)


class RequestSizeLimitMiddleware:
    """Refuses before a byte of the body is read: a chunked body (411), NUL in the query
    string (400), and a declared Content-Length over the limit (413).

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check only runs when `request.body` is used;
    DRF's parsers read the stream directly, and multipart files are never counted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # WSGI servers hand Django no length for a chunked body, so it would read as empty
            # and the request would "succeed" without its data.
            return error_response(request, 411, "Send the body with a Content-Length header.")
        with_nul = [key for key, values in request.GET.lists() if "\x00" in key + "".join(values)]
        if with_nul:
            # Databases refuse NUL in text (PostgreSQL raises): never let one reach a filter.
            return nul_response(request, with_nul)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > request_body_limit(request):
            return too_large_response(request)
        return self.get_response(request)


class JSONErrorsMiddleware:
    """Turns exceptions that escape API views into JSON: 413 for oversized bodies, 400 for
    Django's other SuspiciousOperation family (too many fields or files, bad multipart), 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api_request(request):
            return None
        if isinstance(exception, RequestDataTooBig):  # a SuspiciousOperation too: first
            return too_large_response(request)
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return JsonResponse({"detail": str(exception)}, status=400)
        if isinstance(exception, SuspiciousOperation):
            return JsonResponse({"detail": "Bad request."}, status=400)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
