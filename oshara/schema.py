"""OpenAPI schema pieces shared by every endpoint (drf-spectacular).

The AutoSchema adds the error responses DRF can produce for an operation, derived from the
view itself, so new endpoints are documented without repeating them: 400 for a request
body, 401 when the view authenticates, 404 for a path parameter, 415 for a request body,
429 when it is throttled. Annotations on a view win over these defaults.
"""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

from oshara.http.idempotency import IdempotentCreateMixin

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error that is not about one field.",
    "properties": {
        "detail": {"type": "string", "description": "A human-readable message."},
        "code": {"type": "string", "description": "A machine-readable code, when there is one."},
    },
    "required": ["detail"],
}

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "DRF's validation error body: each invalid field maps to a list of messages, nested "
        'the way the request was (`{"voice": {"voice_url": ["Enter an http(s) URL."]}}`, '
        "lists by position). Errors not about one field are under `non_field_errors`; a "
        'body that is not valid JSON gives `{"detail": "..."}`.'
    ),
    "additionalProperties": {},
    "example": {"name": ["This field is required."], "greting": ["Unknown field."]},
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid request: the body names each invalid field.",
    "401": "Missing, invalid or expired access token (or wrong credentials).",
    "403": "Forbidden: the caller's role in the acting organization does not allow this, or "
    "these credentials may not be used here.",
    "404": "Not found (or not yours: someone else's object is a 404 too).",
    "409": "Conflicts with a concurrent request (the same Idempotency-Key still in flight, "
    "or a concurrent change): retry it.",
    "412": "Precondition failed: If-Match does not match the character's current ETag.",
    "413": "The request body is larger than the server accepts.",
    "415": "Unsupported Content-Type: send application/json or multipart/form-data.",
    "422": "This Idempotency-Key was used with a different request body.",
    "429": "Too many requests: retry after the `Retry-After` header's seconds.",
}


ERROR_COMPONENTS = {"Error": ERROR_SCHEMA, "ValidationError": VALIDATION_ERROR_SCHEMA}


def _has_file_field(fields):
    for field in fields.values():
        if isinstance(field, serializers.FileField):
            return True
        if isinstance(field, serializers.Serializer) and _has_file_field(field.fields):
            return True
    return False


def error_ref(status_code):
    name = "ValidationError" if str(status_code) == "400" else "Error"
    return {"$ref": f"#/components/schemas/{name}"}


def error_response(status_code, description=None):
    """An `extend_schema(responses=...)` entry for an error with the shared body."""
    return OpenApiResponse(
        response=error_ref(status_code),
        description=description or ERROR_DESCRIPTIONS.get(str(status_code), ""),
    )


def _header(description, schema=None):
    return {"schema": schema or {"type": "string"}, "description": description}


ETAG = _header("The character's strong ETag; send it in If-Match / If-None-Match.")
CONDITIONAL_PARAMETERS = {
    "retrieve": ("If-None-Match", "An ETag you hold: 304 Not Modified when it is current."),
    "update": ("If-Match", "Only if the character's ETag still matches (else 412)."),
    "partial_update": ("If-Match", "Only if the character's ETag still matches (else 412)."),
    "destroy": ("If-Match", "Only if the character's ETag still matches (else 412)."),
}
IDEMPOTENCY_KEY = (
    "Idempotency-Key",
    # Printable ASCII, without the edge spaces HTTP strips.
    r"^[!-~]([ -~]{0,253}[!-~])?$",
    "1-255 printable ASCII characters: a retry with the same key and body gets the first "
    "response again (for 24 hours) instead of creating a second character.",
)


class AutoSchema(BaseAutoSchema):
    def _uses(self, feature):
        """Whether the view takes conditional requests or Idempotency-Key (documented here)."""
        if feature == "conditional":
            return getattr(self.view, "conditional_requests", False)
        return isinstance(self.view, IdempotentCreateMixin)

    def map_parsers(self):
        # Multipart is only needed to upload a file: a serializer without one takes JSON.
        parsers = super().map_parsers()
        serializer = self.get_request_serializer()
        fields = (
            getattr(serializer, "fields", {})
            if isinstance(serializer, serializers.Serializer)
            else {}
        )
        if "application/json" in parsers and not _has_file_field(fields):
            return ["application/json"]
        return parsers

    def _permission_header(self):
        """A request header one of the view's permissions reads (`schema_header`: name,
        pattern, description), e.g. the organization a request acts in; a view that names
        it otherwise (in its path) sets `permission_header_documented = False`."""
        if not getattr(self.view, "permission_header_documented", True):
            return None
        for permission in getattr(self.view, "permission_classes", ()):
            if header := getattr(permission, "schema_header", None):
                return header
        return None

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        action = getattr(self.view, "action", None)
        names = []
        if self._uses("conditional") and action in CONDITIONAL_PARAMETERS:
            names.append(CONDITIONAL_PARAMETERS[action])
        if self._uses("idempotent") and action in self.view.idempotent_actions:
            names.append(IDEMPOTENCY_KEY)
        if header := self._permission_header():
            names.append(header)
        for name, *pattern, description in names:
            schema = {"type": "string", **({"pattern": pattern[0]} if pattern else {})}
            parameters.append(
                OpenApiParameter(name, schema, OpenApiParameter.HEADER, description=description)
            )
        return parameters

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction=None):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        action = getattr(self.view, "action", None)
        if (
            self._uses("conditional")
            and str(status_code).startswith("2")
            and self.method != "DELETE"
            and action != "list"
        ):
            response.setdefault("headers", {})["ETag"] = ETAG
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self._uses("conditional") and getattr(self.view, "action", None) == "retrieve":
            responses.setdefault(
                "304", {"description": "Not Modified: the If-None-Match ETag is current."}
            )
        for status_code in self._error_status_codes():
            responses.setdefault(
                status_code,
                {
                    "content": {"application/json": {"schema": error_ref(status_code)}},
                    "description": ERROR_DESCRIPTIONS[status_code],
                },
            )
        for name, schema in ERROR_COMPONENTS.items():
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
                )
            )
        return responses

    def _error_status_codes(self):
        codes = []
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body:
            codes.append("400")
        if self.view.get_authenticators():
            codes.append("401")  # any token sent is checked, even where none is required
        if any(
            not isinstance(permission, (AllowAny, IsAuthenticated))  # a tuple: DRF's | composes
            for permission in self.view.get_permissions()
        ):
            codes.append("403")  # a permission that may refuse an authenticated caller
        if "{" in self.path or self._permission_header():
            codes.append("404")  # or a header naming what the caller cannot see
        action = getattr(self.view, "action", None)
        if self._uses("conditional") and action in ("update", "partial_update", "destroy"):
            codes += ["409", "412"]
        if self._uses("idempotent") and action in self.view.idempotent_actions:
            codes += ["409", "422"]
        if has_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def get_paginated_name(self, serializer_name):
        # Our paginator keeps the body a plain array (totals travel in headers).
        return f"{serializer_name}List"
