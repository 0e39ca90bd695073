"""Root URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.db.transaction import non_atomic_requests as non_atomic
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from accounts.login_limits import throttled_admin_login
from oshara import views

# The admin's "View site" link: this service's site is its API, so its docs.
admin.site.site_url = "/api/docs/"
# The lists are wide (a character has nine columns): the page's width goes to them, not to a
# second copy of the index's app list (the breadcrumbs and the index lead there).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    # Before admin.site.urls: the admin's login page under the API login's throttles.
    path("admin/login/", throttled_admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/auth/", include("accounts.urls")),
    # Read-only pages: no transaction needed (see ATOMIC_REQUESTS).
    path("api/schema/", non_atomic(views.SchemaView.as_view()), name="schema"),
    path("api/docs/", non_atomic(SpectacularSwaggerView.as_view(url_name="schema")), name="docs"),
    path("api/redoc/", non_atomic(views.RedocView.as_view(url_name="schema")), name="redoc"),
    path("api/", include("accounts.organizations.urls")),
    path("api/", include("characters.urls")),
    path("api/", include("knowledge.urls")),
    path("api/", include("calls.urls")),
    path("api/", include("events.urls")),
    # Anything else under /api/ is a JSON 404, also with DEBUG on.
    re_path(r"^api/", views.api_not_found),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(
            r"^{}(?P<path>.*)$".format(settings.MEDIA_URL.lstrip("/")),
            views.serve_media,
        )
    ]

handler500 = "oshara.views.api_server_error"
