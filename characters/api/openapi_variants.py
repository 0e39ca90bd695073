"""Postprocessing hook: request objects whose keys depend on one of them, as `oneOf` variants.

The serializers check these in code (ToolSerializer, FormSerializer, FormFieldSerializer);
the schema says the same with one variant per case, so that generated clients and fuzzers
build bodies the server takes:

- a tool's `config` is the one of its `kind` (a discriminator over `kind`);
- a form has either `fields` or `steps`, never both;
- a form field's `options`, `rows`, `min`, `max` and `default_value` take what its `type` does.

What a schema cannot say stays in prose: names unique within a list, `min` ≤ `max`, a default
within the bounds and among the options, MCP tools naming one of the body's servers.
Runs after oshara.schema_rules.describe_request_rules, whose patterns the variants keep.
"""

import copy

from characters.schemas.tools import (
    CONFIG_SERIALIZERS,
    HTTP_METHODS,
    MAX_HEADERS,
    MAX_TOPIC_LENGTH,
    validate_topic,
)
from oshara.schema_rules import HTTP_URL, NO_NUL, NOT_BLANK, _anchor_ends, _components

REF = "#/components/schemas/"
HEADERS = {
    "type": "object",
    "maxProperties": MAX_HEADERS,
    "additionalProperties": {
        "type": "string",
        "minLength": 1,
        "maxLength": 4096,
        "pattern": r"^[^\r\n\u0000]*[^\s\u0000][^\r\n\u0000]*$",
    },
    "description": "HTTP headers sent with each call: names are RFC 9110 tokens, distinct "
    "ignoring case; values (credentials) are only ever shown masked.",
}


def _string(max_length, pattern=NOT_BLANK, **extra):
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern, **extra}


def _closed(properties, required=(), **extra):
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return {**schema, **({"required": list(required)} if required else {}), **extra}


TOOL_CONFIGS = {
    "http": _closed(
        {
            "url": _string(2000, HTTP_URL, format="uri"),
            "method": {"type": "string", "enum": HTTP_METHODS, "default": "POST"},
            "headers": HEADERS,
        },
        ["url"],
    ),
    "mcp": _closed(
        {
            "server_name": _string(64, description="The name of one of the body's mcp_servers."),
            "tool_name": _string(128),
        },
        ["server_name", "tool_name"],
    ),
    "kb": _closed({}, description="Nothing to configure: `{}`.", maxProperties=0),
    "client_event": _closed(
        {"topic": _string(MAX_TOPIC_LENGTH, validate_topic.regex.pattern.replace("\\Z", "$"))},
        ["topic"],
    ),
}
TOOL_NAMES = {"http": "Http", "mcp": "Mcp", "kb": "Kb", "client_event": "ClientEvent"}


def _variants(components, name, variants, discriminator=None):
    """Replace components[name] by a oneOf over the named variant components."""
    for variant_name, schema in variants.items():
        components[variant_name] = schema
    union = {
        "oneOf": [{"$ref": REF + variant} for variant in variants],
        "description": components[name].get("description", ""),
    }
    if discriminator:
        union["discriminator"] = discriminator
    components[name] = union


def _tool_variants(components):
    base = components["ToolRequest"]
    variants, mapping = {}, {}
    for kind in CONFIG_SERIALIZERS:
        schema = copy.deepcopy(base)
        schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
        schema["properties"]["config"] = TOOL_CONFIGS[kind]
        schema["description"] = f"A `{kind}` tool."
        variant = f"{TOOL_NAMES[kind]}ToolRequest"
        variants[variant], mapping[kind] = schema, REF + variant
    base["description"] = "A tool the agent can call: its `config` depends on its `kind`."
    _variants(components, "ToolRequest", variants, {"propertyName": "kind", "mapping": mapping})


def _form_variants(components):
    base = components["FormRequest"]
    variants = {}
    for name, (keep, drop) in {
        "FieldsFormRequest": ("fields", "steps"),
        "StepsFormRequest": ("steps", "fields"),
    }.items():
        schema = copy.deepcopy(base)
        del schema["properties"][drop]
        schema["required"] = sorted({*schema.get("required", []), keep})
        schema["description"] = f"A form with `{keep}` (and no `{drop}`)."
        variants[name] = schema
    base["description"] = 'A form: either "fields" or "steps" (exactly one of them).'
    _variants(components, "FormRequest", variants)


OPTION = {
    "oneOf": [
        _string(200, NO_NUL),
        _closed(
            {"value": _string(200, NO_NUL), "label": {**_string(200, NO_NUL), "minLength": 0}},
            ["value"],
        ),
    ],
    "description": 'A choice: "Red" or {"value": "red", "label": "Red"}; values are distinct.',
}
LENGTH = {"type": "integer", "minimum": 0, "description": "A length in characters."}
TEXT = {"type": "string", "maxLength": 2000, "pattern": NO_NUL}
# An ISO date that exists (29 February aside), an ISO time.
DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]|(?<!02-)(29|30)|(?<=(0[13578]|1[02])-)31)$"
TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
DOMAIN = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
EMAIL = rf"^[A-Za-z0-9_+-]{{1,64}}(\.[A-Za-z0-9_+-]{{1,64}})*@{DOMAIN}$"
# type (None: may be left out) -> (min/max, default_value, options: None / optional / required)
FIELD_TYPES = {
    "TextFieldRequest": (["text", "tel", None], LENGTH, TEXT, None),
    "TextareaFieldRequest": (["textarea"], LENGTH, TEXT, None),
    "EmailFieldRequest": (["email"], LENGTH, _string(254, EMAIL), None),
    "UrlFieldRequest": (["url"], LENGTH, _string(2000, HTTP_URL), None),
    "NumberFieldRequest": (["number"], {"type": "number"}, {"type": "number"}, None),
    "DateFieldRequest": (["date"], {"type": "string", "pattern": DATE}, _string(10, DATE), None),
    "TimeFieldRequest": (["time"], {"type": "string", "pattern": TIME}, _string(8, TIME), None),
    "ChoiceFieldRequest": (["select", "radio"], LENGTH, _string(200, NO_NUL), "required"),
    "CheckboxFieldRequest": (
        ["checkbox"],
        LENGTH,
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            ],
            "description": "true or false, or a list of the field's option values.",
        },
        "optional",
    ),
}


def _form_field_variants(components):
    base = components["FormFieldRequest"]
    variants = {}
    for name, (types, bound, default, options) in FIELD_TYPES.items():
        schema = copy.deepcopy(base)
        properties = schema["properties"]
        named = [t for t in types if t]
        properties["type"] = {"type": "string", "enum": named}
        properties.update(min=bound, max=bound, default_value=default)
        if options:
            properties["options"]["items"] = OPTION
        else:
            del properties["options"]
        if name != "TextareaFieldRequest":
            del properties["rows"]
        required = set(schema.get("required", []))
        required |= {"type"} if None not in types else set()
        required |= {"options"} if options == "required" else set()
        schema["required"] = sorted(required)
        schema["description"] = f"A form field of type {' or '.join(named)}." + (
            " The type may be left out (text)." if None in types else ""
        )
        variants[name] = schema
    base["description"] = "A form field: what it takes depends on its `type` (default text)."
    _variants(components, "FormFieldRequest", variants)


def describe_variants(result, generator, request, public):
    components = _components(result)
    if "ToolRequest" in components:
        _tool_variants(components)
    if "FormRequest" in components:
        _form_variants(components)
    if "FormFieldRequest" in components:
        _form_field_variants(components)
    if "McpServerRequest" in components:
        # The same rule as an HTTP tool's headers (schemas/tools.py HeadersField), which the
        # generated dict field cannot say.
        components["McpServerRequest"]["properties"]["headers"] = HEADERS
    _anchor_ends(result)
    return result
