"""Managing keys takes a JWT: a key (a backend's credential) cannot mint, list or revoke keys."""

from rest_framework.permissions import BasePermission

from accounts.api_keys.models import ApiKey


class NotWithApiKey(BasePermission):
    message = (
        "API keys cannot manage API keys: authenticate with a JWT "
        "(Authorization: Bearer <access>) instead."
    )
    code = "api_key_not_allowed"

    def has_permission(self, request, view):
        return not isinstance(request.auth, ApiKey)
