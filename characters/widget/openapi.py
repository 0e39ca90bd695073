"""The widget's public fetch in the OpenAPI schema.

`GET /api/agents/{slug}/appearance/` is a plain Django view (the hottest path skips DRF), so
drf-spectacular cannot see it; this postprocessing hook describes it, needing no auth.
"""

import copy

from characters.validators import SLUG_PATTERN
from characters.widget import defaults

PATH = "/api/agents/{slug}/appearance/"

PAYLOAD = "WidgetPayload"
DESCRIPTION = (
    "The widget appearance itself, flat: the defaults merged under the owner's overrides "
    "(`widget_appearance`), every key present, each form with its own defaults merged. "
    "Nothing else of the character (prompt, keys, tools, owner) is ever in it."
)


def required_keys():
    """{component: the keys the merged payload always holds} (characters/widget/defaults.py)."""
    nested = {
        key: list(value)
        for key, value in defaults.DEFAULT_APPEARANCE.items()
        if isinstance(value, dict)
    }
    return {
        "WidgetAppearance": list(defaults.DEFAULT_APPEARANCE),
        "Theme": nested["theme"],
        "Dimensions": nested["dimensions"],
        "Layout": nested["layout"],
        "Labels": nested["labels"],
        "Form": ["id", "title", *defaults.DEFAULT_FORM, "confirmation_type"],
        "FormField": ["name", "label", *defaults.DEFAULT_FORM_FIELD],
        "FormLayout": list(defaults.DEFAULT_FORM["layout"]),
    }


def payload_schema(components):
    """WidgetAppearance with its components inlined and every always-present key required."""
    required = required_keys()

    def resolve(node):
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            schema = resolve(copy.deepcopy(components[name]))
            if name in required:
                schema["required"] = sorted({*schema.get("required", []), *required[name]})
            if "properties" in schema:
                schema["additionalProperties"] = False  # nothing else is ever in it
            return schema
        return {key: resolve(value) for key, value in node.items()}

    schema = resolve({"$ref": "#/components/schemas/WidgetAppearance"})
    schema["description"] = DESCRIPTION
    return schema


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
UNKNOWN = _error("No active character has this slug (an inactive one is a 404 too).")


def add_widget_appearance_path(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[PAYLOAD] = payload_schema(components)
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
                    "description": "Allowed origin: the merged appearance, flat, with a CORS "
                    "grant.",
                    "headers": CORS_HEADERS,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{PAYLOAD}"}}
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
