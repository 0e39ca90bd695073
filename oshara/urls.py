"""Root URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from oshara import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("characters.urls")),
    path("api/", include("knowledge.urls")),
    # Anything else under /api/ is a JSON 404, also with DEBUG on.
    re_path(r"^api/", views.api_not_found),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(
            r"^{}(?P<path>.*)$".format(settings.MEDIA_URL.lstrip("/")),
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

handler500 = "oshara.views.api_server_error"
