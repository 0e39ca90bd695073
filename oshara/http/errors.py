"""Keep every error under /api/ a JSON body, whatever raised it, and cap request sizes."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("oshara.errors")

TOO_LARGE = "Request body is too large."


def is_api_request(request):
    return request.path.startswith("/api/")


def too_large_response(request):
    if is_api_request(request):
        return JsonResponse({"detail": TOO_LARGE}, status=413)
    return HttpResponse(TOO_LARGE, status=413, content_type="text/plain")


def request_body_limit(request):
    """Uploads may be as large as REQUEST_MAX_BYTES; any other body, DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.content_type == "multipart/form-data":
        return settings.REQUEST_MAX_BYTES
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.REQUEST_MAX_BYTES if limit is None else min(limit, settings.REQUEST_MAX_BYTES)


class RequestSizeLimitMiddleware:
    """413 on the declared Content-Length, before a byte of the body is read.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check only runs when `request.body` is used;
    DRF's parsers read the stream directly, and multipart files are never counted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > request_body_limit(request):
            return too_large_response(request)
        return self.get_response(request)


class JSONErrorsMiddleware:
    """Turns exceptions that escape API views into JSON (500, or 413 for oversized bodies)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api_request(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
