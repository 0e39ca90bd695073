"""Keep every error under /api/ a JSON body, whatever raised it."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

logger = logging.getLogger("oshara.errors")


def is_api_request(request):
    return request.path.startswith("/api/")


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
            return JsonResponse({"detail": "Request body is too large."}, status=413)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
