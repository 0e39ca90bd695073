"""OpenAPI schema pieces shared by every endpoint (drf-spectacular).

The AutoSchema adds the error responses DRF can produce for an operation, derived from the
view itself, so new endpoints are documented without repeating them: 400 for a request
body, 401 when the view authenticates, 404 for a path parameter, 415 for a request body,
429 when it is throttled. Annotations on a view win over these defaults.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse

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
    "403": "Forbidden.",
    "404": "Not found (or not yours: someone else's object is a 404 too).",
    "415": "Unsupported Content-Type: send application/json or multipart/form-data.",
    "429": "Too many requests: retry after the `Retry-After` header's seconds.",
}


ERROR_COMPONENTS = {"Error": ERROR_SCHEMA, "ValidationError": VALIDATION_ERROR_SCHEMA}


class StandaloneListFieldExtension(OpenApiSerializerFieldExtension):
    """`tools` and `mcp_servers`: an array of their item serializer's component."""

    target_class = "characters.schemas.tools.StandaloneListField"

    def map_serializer_field(self, auto_schema, direction):
        item = auto_schema.resolve_serializer(self.target.item_serializer, direction)
        return {"type": "array", "items": item.ref, "maxItems": self.target.max_length}


def error_ref(status_code):
    name = "ValidationError" if str(status_code) == "400" else "Error"
    return {"$ref": f"#/components/schemas/{name}"}


def error_response(status_code, description=None):
    """An `extend_schema(responses=...)` entry for an error with the shared body."""
    return OpenApiResponse(
        response=error_ref(status_code),
        description=description or ERROR_DESCRIPTIONS.get(str(status_code), ""),
    )


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
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
        if "{" in self.path:
            codes.append("404")
        if has_body:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def get_paginated_name(self, serializer_name):
        # Our paginator keeps the body a plain array (totals travel in headers).
        return f"{serializer_name}List"


def postprocess_multipart_forms(result, generator, request, public):
    """Make multipart request bodies say what the server reads.

    In a multipart body a nested object is sent as dotted keys (`voice.audio_file`), and the
    fields listed in MULTIPART_JSON_FIELDS as JSON text (declared with an `encoding`).
    """
    from characters.api.serializers import MULTIPART_JSON_FIELDS

    components = result.get("components", {}).get("schemas", {})
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if not media or "$ref" not in media.get("schema", {}):
                continue
            name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            json_fields = [f for f in MULTIPART_JSON_FIELDS if f in components[name]["properties"]]
            form = flatten_form(components[name], components)
            if form["properties"] == components[name]["properties"] and not json_fields:
                continue  # a flat form: the JSON component describes it exactly
            form_name = name.replace("Request", "MultipartRequest")
            components.setdefault(form_name, form)
            media["schema"] = {"$ref": f"#/components/schemas/{form_name}"}
            if json_fields:
                media["encoding"] = {
                    field: {"contentType": "application/json"} for field in json_fields
                }
    return result


def flatten_form(schema, components):
    """Replace each property that refers to an object component by its dotted keys."""
    from characters.api.serializers import MULTIPART_JSON_FIELDS

    properties, required = {}, list(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref") or next(
            (item["$ref"] for item in prop.get("allOf", []) if "$ref" in item), None
        )
        if ref and key not in MULTIPART_JSON_FIELDS:
            nested = components[ref.rsplit("/", 1)[-1]]
            for child, child_prop in nested.get("properties", {}).items():
                properties[f"{key}.{child}"] = child_prop
            continue
        properties[key] = prop
    flat = {**schema, "properties": properties}
    if required:
        flat["required"] = required
    flat["description"] = (
        "The multipart form of the same object: files as parts, `voice.*` as dotted keys, "
        f"{', '.join(f'`{name}`' for name in MULTIPART_JSON_FIELDS)} as JSON text."
    )
    return flat
