"""The widget's public fetch in the OpenAPI schema.

`GET /api/agents/{slug}/appearance/` is a plain Django view (the hottest path skips DRF), so
drf-spectacular cannot see it; this postprocessing hook describes it, needing no auth.
"""

from characters.validators import SLUG_PATTERN

PATH = "/api/agents/{slug}/appearance/"

PUBLIC_CHARACTER = {
    "type": "object",
    "description": "A character's public face and its appearance, defaults merged under the "
    "owner's overrides. Nothing private (prompt, keys, tools, owner) is ever in it.",
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "greeting": {"type": "string"},
        "language": {"type": "string", "description": "BCP-47 tag."},
        "widget_appearance": {"$ref": "#/components/schemas/WidgetAppearance"},
        "image": {"type": "string", "format": "uri", "nullable": True},
    },
    "required": ["slug", "name", "greeting", "language", "widget_appearance", "image"],
}


def _error(description):
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _header(description):
    return {"schema": {"type": "string"}, "description": description}


PARAMETERS = [
    {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
    },
    {
        "name": "Origin",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "The embedding page's origin; it must match one of the character's "
        "`allowed_origins` by scheme, host and port.",
    },
]
CORS_HEADERS = {
    "Access-Control-Allow-Origin": _header("The request's Origin, when it is allowed."),
    "Vary": _header("`Origin`: the answer depends on it."),
}
DENIED = _error("The Origin is missing or not in the character's `allowed_origins`.")
UNKNOWN = _error("No character has this slug.")


def add_widget_appearance_path(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["PublicCharacter"] = (
        PUBLIC_CHARACTER
    )
    result["paths"][PATH] = {
        "get": {
            "operationId": "agents_appearance_retrieve",
            "summary": "The widget's fetch of a character by slug",
            "description": "No token: the request's `Origin` header is the gate. Served from "
            "the cache; an edit shows on the next request.",
            "tags": ["widget"],
            "parameters": PARAMETERS,
            "security": [{}],
            "responses": {
                "200": {
                    "description": "Allowed origin: the public character with a CORS grant.",
                    "headers": CORS_HEADERS,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/PublicCharacter"}
                        }
                    },
                },
                "403": DENIED,
                "404": UNKNOWN,
            },
        },
        "options": {
            "operationId": "agents_appearance_preflight",
            "summary": "CORS preflight for the widget's fetch",
            "tags": ["widget"],
            "parameters": PARAMETERS,
            "security": [{}],
            "responses": {
                "204": {"description": "Allowed origin: the CORS grant.", "headers": CORS_HEADERS},
                "403": DENIED,
                "404": UNKNOWN,
            },
        },
    }
    return result
