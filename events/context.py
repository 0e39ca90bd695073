"""Who is acting: the request being served (set by RequestContextMiddleware), read when a
change is recorded, after DRF has authenticated the caller."""

import uuid
from contextvars import ContextVar

from accounts.api_keys.models import ApiKey
from oshara.http.throttling import client_address

_current_request = ContextVar("current_request", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID = 64


class RequestContextMiddleware:
    """Keeps the request in a context variable, with its id: the caller's X-Request-ID when
    it sends a short one (a proxy's, to find the request in both logs), a new one otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        usable = 0 < len(sent) <= MAX_REQUEST_ID and sent.isprintable()
        request.request_id = sent if usable else uuid.uuid4().hex
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_request():
    return _current_request.get()


def actor_of(request, default_type):
    """{"type", "id", "label"} of whoever made `request` (None: no request is being served)."""
    if request is None:
        return {"type": default_type, "id": "", "label": ""}
    user = getattr(request, "user", None)
    auth = getattr(request, "auth", None)
    if user is None or not user.is_authenticated:
        return {"type": default_type, "id": "", "label": ""}
    if user.pk is None:  # the voice worker (calls/authentication.py): no user row
        return {"type": "worker", "id": "", "label": str(user)}
    label = getattr(user, "email", "") or ""
    if isinstance(auth, ApiKey):
        return {"type": "api_key", "id": str(auth.pk), "label": auth.name}
    if request.path.startswith("/admin/"):
        return {"type": "admin", "id": str(user.pk), "label": label}
    return {"type": "user", "id": str(user.pk), "label": label}


def request_details(request):
    """(ip, request_id) of the request, or (None, "")."""
    if request is None:
        return None, ""
    return client_address(request) or None, getattr(request, "request_id", "")
