"""Project-level views: health check, API docs and the JSON fallbacks for /api/."""

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.static import serve
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from knowledge.worker import worker_status
from oshara.http.files import harden_file_response

HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(["ok", "degraded", "unavailable"]),
        "database": serializers.ChoiceField(["ok", "unreachable"]),
        "cache": serializers.ChoiceField(["ok", "unreachable"]),
        "worker": serializers.ChoiceField(["ok", "stale"]),
    },
)


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unreachable"
    return "ok"


def cache_status():
    """Redis, when REDIS_URL names one; the local-memory cache cannot be down."""
    if not settings.REDIS_URL:
        return "ok"
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    try:
        get_redis_connection("default").ping()
    except RedisError:
        return "unreachable"
    return "ok"


@transaction.non_atomic_requests
@extend_schema(
    tags=["health"],
    responses={200: HealthSerializer, 503: HealthSerializer},
    summary="Health check: 503 only when the database is down (Redis down is `degraded`)",
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])  # must answer even when the throttle's cache is down
def healthz(request):
    """503 when the database does not answer; Redis down only degrades (caches miss,
    throttles let requests through), so it is reported but still a 200. `status` is about
    serving requests: a stale task worker (none seen within TASK_WORKER_LEASE_SECONDS) only
    delays documents, so it is reported apart (`worker`) and changes nothing else."""
    checks = {"database": database_status(), "cache": cache_status()}
    if checks["database"] != "ok":
        return Response({"status": "unavailable", **checks, "worker": "stale"}, status=503)
    status = "ok" if checks["cache"] == "ok" else "degraded"
    return Response({"status": status, **checks, "worker": worker_status()})


class RedocView(SpectacularRedocView):
    """ReDoc without the stock page's web-font CDN links, so it works offline."""

    template_name = "api_docs/redoc.html"


@csrf_exempt  # token-authenticated API: a JSON 404, never the CSRF page
@transaction.non_atomic_requests
def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


def api_server_error(request, *args, **kwargs):
    return JsonResponse({"detail": "Internal server error."}, status=500)


def serve_media(request, path):
    """Uploads served by Django itself (SERVE_MEDIA); MEDIA_ROOT is read per request. Never
    sniffed, sandboxed, and a download unless an image or audio (oshara/http/files.py)."""
    return harden_file_response(serve(request, path, document_root=settings.MEDIA_ROOT))
