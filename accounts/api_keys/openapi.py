"""The `ApiKeyAuth` security scheme, on every operation whose view accepts a key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_keys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key, `sk_` + 64 hex characters (POST /api/auth/api-keys/).",
        }
