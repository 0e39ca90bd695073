"""The character's part of the OpenAPI schema (drf-spectacular): what its serializers cannot
say themselves. The project-wide rules are oshara/schema.py and oshara/schema_rules.py; the
request variants are openapi_variants.py; the widget's path is characters/widget/openapi.py.

CharactersConfig.ready() imports this module, so the field extension is registered before a
schema is generated; the hooks are named in SPECTACULAR_SETTINGS.
"""

import json

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from characters.api.serializers import MULTIPART_JSON_FIELDS
from characters.schemas.appearance import FONT_FAMILY
from characters.schemas.form_fields import FIELD_NAME
from characters.schemas.lead_forms import FORM_ID, STEP_ID, SUBMIT_PATH
from oshara import schema_rules
from oshara.schema_rules import HTTP_URL, _anchor_ends, _components, language_tag_pattern


class StandaloneListFieldExtension(OpenApiSerializerFieldExtension):
    """`tools` and `mcp_servers`: an array of their item serializer's component."""

    target_class = "characters.schemas.tools.StandaloneListField"

    def map_serializer_field(self, auto_schema, direction):
        item = auto_schema.resolve_serializer(self.target.item_serializer, direction)
        return {"type": "array", "items": item.ref, "maxItems": self.target.max_length}


def postprocess_multipart_forms(result, generator, request, public):
    """Make multipart request bodies say what the server reads.

    In a multipart body a nested object is sent as dotted keys (`voice.audio_file`), and the
    fields listed in MULTIPART_JSON_FIELDS as JSON text (declared with an `encoding`).
    """
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


CLEARED_BY_AN_EMPTY_PART = (
    "In multipart, an empty part clears it: a part is text and cannot hold null (a "
    'generated client would send the text "None").'
)


def as_part(prop):
    """A text part cannot be null: a nullable string is cleared by an empty part instead."""
    if prop.get("type") != "string" or not prop.get("nullable"):
        return prop
    part = {key: value for key, value in prop.items() if key != "nullable"}
    described = [prop.get("description"), CLEARED_BY_AN_EMPTY_PART]
    part["description"] = " ".join(filter(None, described))
    return part


def flatten_form(schema, components):
    """Replace each property that refers to an object component by its dotted keys."""
    properties, required = {}, list(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref") or next(
            (item["$ref"] for item in prop.get("allOf", []) if "$ref" in item), None
        )
        nested = components[ref.rsplit("/", 1)[-1]] if ref else {}
        if nested.get("properties") and key not in MULTIPART_JSON_FIELDS:
            for child, child_prop in nested.get("properties", {}).items():
                properties[f"{key}.{child}"] = child_prop
            continue
        properties[key] = as_part(prop)
    flat = {**schema, "properties": properties}
    if required:
        flat["required"] = required
    flat["description"] = (
        "The multipart form of the same object: files as parts, `voice.*` as dotted keys, "
        "`widget_appearance` as JSON text. A list is either one part per item (objects as "
        "JSON text) or one part holding the whole array as JSON text; to clear a list, send "
        "one part `[]` (no part at all leaves it as it is)."
    )
    return flat


def _component_rules():
    """Rules the appearance and tool serializers check in code, from the same expressions."""

    def pattern(regex):
        return {"pattern": regex.pattern.replace("\\Z", "$")}

    non_empty = {"minItems": 1}
    return {
        ("FormRequest", "id"): pattern(FORM_ID),
        ("FormRequest", "submit_url"): {
            "pattern": rf"^({SUBMIT_PATH.pattern[1:-2]}|{HTTP_URL[1:-1]})$"
        },
        ("FormRequest", "fields"): non_empty,
        ("FormRequest", "steps"): non_empty,
        ("FormStepRequest", "id"): pattern(STEP_ID),
        ("FormStepRequest", "fields"): non_empty,
        ("FormFieldRequest", "name"): pattern(FIELD_NAME),
        ("FormFieldRequest", "options"): non_empty,
        ("LanguageRequest", "code"): {"pattern": language_tag_pattern()},
        ("LayoutRequest", "font_family"): pattern(FONT_FAMILY),
        ("ToolRequest", "input_schema"): {
            "properties": {"type": {"type": "string", "enum": ["object"]}},
            "required": ["type"],
        },
    }


def describe_character_rules(result, generator, request, public):
    """After schema_rules.describe_request_rules: the rules of the character's components."""
    components = _components(result)
    for (name, key), rule in _component_rules().items():
        prop = components.get(name, {}).get("properties", {}).get(key)
        if prop is not None:
            prop.update(rule)
            _anchor_ends(prop)
    return result


# The appearance as stored holds only the owner's overrides (forms and their parts as sent):
# its response components keep the keys they have.
schema_rules.keep_response_keys_optional(
    "WidgetAppearance",
    "Theme",
    "Dimensions",
    "Layout",
    "Labels",
    "Language",
    "Form",
    "FormField",
    "FormStep",
    "FormLayout",
)
# The widget's fetch merges the defaults under the overrides: these keys are always there.
MERGED_APPEARANCE = ("WidgetAppearance", "Theme", "Dimensions", "Layout", "Labels")


def describe_merged_appearance(result, generator, request, public):
    """`Public*` copies of the appearance components, every key required (before
    schema_rules.require_response_fields)."""
    components = _components(result)
    if not all(name in components for name in MERGED_APPEARANCE):
        return result
    renamed = {
        f"#/components/schemas/{name}": f"#/components/schemas/Public{name}"
        for name in MERGED_APPEARANCE
    }
    for name in MERGED_APPEARANCE:
        copy = json.loads(json.dumps(components[name]))
        for prop in copy["properties"].values():
            if prop.get("$ref") in renamed:
                prop["$ref"] = renamed[prop["$ref"]]
        copy["required"] = sorted(copy["properties"])
        components[f"Public{name}"] = copy
    public_character = components.get("PublicCharacter")
    if public_character:
        public_character["properties"]["widget_appearance"] = {
            "$ref": "#/components/schemas/PublicWidgetAppearance"
        }
    return result
