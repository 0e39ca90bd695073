"""Structured editors for the character's JSON fields, generated from the served OpenAPI schema.

One source: the editor's schema is the request body's property of the same name in the schema
drf-spectacular serves at /api/schema/, itself generated from the serializers the API and the
model validate with (characters/schemas/). A change to a serializer shows in the admin without
touching the admin. django-jsonform draws the editor; only presentation is added here (titles
for the choices of a oneOf, colour pickers, masked header values), never a rule.
"""

import functools
import inspect
import json
import re

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django_jsonform.constants import JOIN_SYMBOL
from django_jsonform.widgets import JSONFormWidget
from drf_spectacular.generators import SchemaGenerator

from characters.admin.editor_data import fill
from oshara.http.strict import StrictSerializer

REF_PREFIX = "#/components/schemas/"
# The request body the editors mirror; every editable field of a character is in it.
REQUEST_COMPONENT = "PatchedCharacterRequest"
COLOUR_SUFFIX = "_color"
HEADERS = "headers"
# Posted with each editor: "structured" (prune what the editor filled in) or "raw".
MODE_SUFFIX = "__editor"
# The property that tells a oneOf's choices apart (a tool's kind, a form field's type).
DISCRIMINATORS = ("kind", "type")
# A model-level message names where it applies: "theme.primary_color: Enter a valid colour."
# What every nested object's description says (its class's docstring): not worth a line.
GENERIC_DESCRIPTION = inspect.getdoc(StrictSerializer)
LOCATED_MESSAGE = re.compile(r"^(?P<path>[^\s:]+): (?P<message>.+)\Z", re.S)


@functools.cache
def openapi_components():
    """The components of the schema the API serves (generated once per process)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"]


def component_title(name):
    """ "HttpToolRequest" -> "Http tool", the label of one choice of a oneOf."""
    words = re.findall(r"[A-Z][a-z0-9]*", name.removesuffix("Request"))
    return " ".join(words).capitalize()


class EditorSchema:
    """The OpenAPI property of one field, turned into the JSON Schema django-jsonform draws."""

    def __init__(self, components):
        self.components = components
        self.defs = {}

    def build(self, field_name):
        root = self.components[REQUEST_COMPONENT]["properties"][field_name]
        if "$ref" in root:  # drawn inline: django-jsonform fills a root $ref's keys poorly
            root = self.components[root["$ref"].removeprefix(REF_PREFIX)]
        return {**self.convert(root), "$defs": self.defs}

    def ref(self, name):
        if name not in self.defs:
            self.defs[name] = {}  # reserved first: schemas may refer to themselves
            self.defs[name] = self.convert(self.components[name])
        return {"$ref": f"#/$defs/{name}"}

    def convert(self, schema, key=None, parent_key=None):
        if "$ref" in schema:
            return self.ref(schema["$ref"].removeprefix(REF_PREFIX))
        schema = dict(schema)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            # drf-spectacular's way of adding a default to a $ref (an enum).
            only = schema.pop("allOf")[0]
            resolved = self.components[only["$ref"].removeprefix(REF_PREFIX)]
            schema = {**resolved, **schema}
        if "anyOf" in schema and all(option.get("type") == "string" for option in schema["anyOf"]):
            # "a URL or empty": one text input; the server says which strings it takes.
            schema = {**schema.pop("anyOf")[0], **schema}
        if "oneOf" in schema:
            schema["oneOf"] = [
                split for option in schema["oneOf"] for split in self.choices(option)
            ]
            schema.pop("discriminator", None)
        if len(schema.get("enum", ())) == 1:
            schema["const"] = schema.pop("enum")[0]
        if schema.get("additionalProperties") == {}:
            # Any JSON (a tool's input_schema): no form can draw it; the raw view edits it.
            schema["widget"] = "hidden"
        description = schema.pop("description", None)
        # An enum's description only lists its values, which the select shows already.
        if description and description != GENERIC_DESCRIPTION and "enum" not in schema:
            schema["help_text"] = description
        schema.pop("nullable", None)
        if "properties" in schema:
            schema["properties"] = {
                name: self.convert(prop, name, key) for name, prop in schema["properties"].items()
            }
        if schema.get("additionalProperties"):
            schema["additionalProperties"] = self.convert(
                schema["additionalProperties"], parent_key=key
            )
        if "items" in schema:
            schema["items"] = self.convert(schema["items"], parent_key=key)
        if schema.get("type") == "string":
            if key and key.endswith(COLOUR_SUFFIX):
                schema["format"] = "color"
            elif parent_key == HEADERS:
                # Header values are credentials: shown masked (********), typed unseen.
                schema["format"] = "password"
        return schema

    def choices(self, option):
        """One oneOf choice, inlined and titled; a choice whose discriminator (its `kind` or
        `type`) takes several values becomes one choice per value, so django-jsonform can
        tell the choices of an item apart by that value alone."""
        if "$ref" not in option:
            converted = self.convert(option)
            converted.setdefault("title", converted.get("type", "value").capitalize())
            return [converted]
        name = option["$ref"].removeprefix(REF_PREFIX)
        converted = self.convert(self.components[name])
        properties = converted.get("properties", {})
        key = next((key for key in DISCRIMINATORS if "enum" in properties.get(key, {})), None)
        if key is None:
            return [{**converted, "title": component_title(name)}]
        values = properties[key]["enum"]
        noun = component_title(name).split()[-1].lower()  # "tool", "field"
        return [
            {
                **converted,
                "title": f"{value.replace('_', ' ').capitalize()} {noun}",
                "properties": {**properties, key: {"type": "string", "const": value}},
            }
            for value in values
        ]


@functools.cache
def editor_schema(field_name):
    return EditorSchema(openapi_components()).build(field_name)


def error_map(messages):
    """django-jsonform's map of errors by position: each located message at its field, and
    the others at the top of the editor."""
    located = {}
    for message in messages:
        match = LOCATED_MESSAGE.match(str(message))
        path = match["path"].split(".") if match else []
        key = JOIN_SYMBOL.join(path)
        located.setdefault(key, []).append(match["message"] if match else str(message))
    return located


class StructuredJSONWidget(JSONFormWidget):
    """django-jsonform's editor with the raw JSON one click away; JSON that does not parse
    (typed by an expert) comes back in the raw view, so nothing typed is lost."""

    template_name = "characters/admin/structured_json.html"

    def __init__(self, field_name, attrs=None):
        super().__init__(schema=functools.partial(editor_schema, field_name), attrs=attrs)
        self.field_name = field_name

    def render(self, name, value, attrs=None, renderer=None):
        try:
            json.loads(value) if isinstance(value, str) else None
            parses = True
        except ValueError:
            parses = False
        context = self.get_context(name, value, attrs)
        schema = self.get_schema()
        data = fill(json.loads(value), schema, schema["$defs"]) if parses and value else None
        config = {
            "data": json.dumps(data),
            "schema": schema,
            "fileHandler": "",
            "fileHandlerArgs": {},
            "errorMap": getattr(self, "error_map", {}),
            "validateOnSubmit": False,
            "readonly": bool((attrs or {}).get("disabled")),
        }
        context["widget"].update(
            config=json.dumps(config),
            raw=value or "",
            starts_raw=not parses,
            mode_name=f"{name}{MODE_SUFFIX}",
        )
        return mark_safe(render_to_string(self.template_name, context))

    @property
    def media(self):
        return super().media + forms.Media(
            css={"all": ["characters/admin/structured_json.css"]},
            js=["characters/admin/structured_json.js"],
        )
