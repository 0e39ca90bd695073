"""Log-in limits shared by the API and the admin: one set of throttles, one failure count.

The API's views apply accounts.throttling.AUTH_THROTTLES themselves; the admin's login page
gets the same throttles from `throttled_admin_login`. Every failed `authenticate()` (both
paths call it) sends `user_login_failed`, which counts the failure per e-mail address.
"""

from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpResponse

from accounts.throttling import AUTH_THROTTLES, AuthEmailRateThrottle


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs):
    email = credentials.get("email", credentials.get("username"))
    if request is not None and isinstance(email, str) and email.strip():
        AuthEmailRateThrottle().record_failure(request, email)


def throttled_admin_login(request, **kwargs):
    """The admin's login page, refusing a POST beyond the API login's limits with a 429."""
    if request.method == "POST":
        for throttle in (throttle_class() for throttle_class in AUTH_THROTTLES):
            if not throttle.allow_request(request, None):
                response = HttpResponse(
                    "Too many log-in attempts; try again later.",
                    status=429,
                    content_type="text/plain",
                )
                response["Retry-After"] = str(int(throttle.wait() or 1))
                return response
    return admin.site.login(request, **kwargs)
