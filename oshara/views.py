"""Project-level views: health check, API docs and the JSON fallbacks for /api/."""

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.static import serve
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(["ok", "unavailable"]),
        "database": serializers.ChoiceField(["ok", "unreachable"]),
    },
)


@transaction.non_atomic_requests
@extend_schema(
    tags=["health"],
    responses={200: HealthSerializer, 503: HealthSerializer},
    summary="Health check: 200 when the database answers, 503 when it does not",
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def healthz(request):
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return Response({"status": "unavailable", "database": "unreachable"}, status=503)
    return Response({"status": "ok", "database": "ok"})


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
    """Uploads served by Django itself (SERVE_MEDIA); MEDIA_ROOT is read per request."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
