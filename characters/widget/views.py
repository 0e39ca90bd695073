"""GET /api/agents/{slug}/appearance/: the widget's public, Origin-gated fetch by slug.

A plain Django view rather than DRF: it is the hottest path, and a cache hit is one cache
round trip (the throttle's counter and the cached entry together), an origin check and
pre-serialised bytes. No JWT and no session are involved.
"""

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from characters.widget.cache import APPEARANCE
from characters.widget.origins import origin_is_allowed
from oshara.http.throttling import WidgetIPRateThrottle

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


def json_error(status, detail, **headers):
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def throttled(request, wait):
    """429, readable by the page that asked: the body says nothing about the character, so
    the Origin is granted without the lookup the throttle is there to spare."""
    response = json_error(
        429,
        f"Request was throttled. Expected available in {wait} seconds.",
        Retry_After=str(wait),
        Vary="Origin",
    )
    if origin := request.META.get("HTTP_ORIGIN"):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


@csrf_exempt  # public and cookie-less: other methods get a JSON 405, not the CSRF page
@transaction.non_atomic_requests
def widget_appearance(request, slug):
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return json_error(405, f'Method "{request.method}" not allowed.', Allow=ALLOWED_METHODS)
    throttle = WidgetIPRateThrottle()
    throttle.read_keys = APPEARANCE.keys(slug)  # the entry comes with the counter's round trip
    if not throttle.allow_request(request, None):
        return throttled(request, throttle.wait())
    found = APPEARANCE.lookup(slug, throttle.found)
    if found is None:
        return json_error(404, "Not found.")
    allowed_origins, body = found
    origin = request.META.get("HTTP_ORIGIN")
    if not settings.WIDGET_ALLOW_ANY_ORIGIN and not origin_is_allowed(origin, allowed_origins):
        # The response depends on Origin, so shared caches must key on it; no CORS grant.
        detail = (
            "This origin is not allowed to embed this character."
            if origin
            else "An Origin header is required."
        )
        return json_error(403, detail, Vary="Origin")
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        if requested := request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"):
            response["Access-Control-Allow-Headers"] = requested
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        response["Vary"] = "Origin, Access-Control-Request-Headers"
    else:
        response = HttpResponse(body, content_type="application/json")
        response["Vary"] = "Origin"
        # Edits must show on the next fetch: browsers and proxies revalidate every time.
        response["Cache-Control"] = "no-cache"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response
