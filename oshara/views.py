"""Project-level views: health check and the JSON fallbacks for /api/."""

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.static import serve


@transaction.non_atomic_requests
def healthz(request):
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@transaction.non_atomic_requests
def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


def api_server_error(request, *args, **kwargs):
    return JsonResponse({"detail": "Internal server error."}, status=500)


def serve_media(request, path):
    """Uploads served by Django itself (SERVE_MEDIA); MEDIA_ROOT is read per request."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
