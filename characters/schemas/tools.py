"""Tool integrations: the character's `tools` and `mcp_servers`, strictly validated."""

import copy
import re

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from jsonschema import Draft202012Validator, SchemaError
from jsonschema.validators import validator_for
from rest_framework import serializers
from rest_framework.settings import api_settings

from characters.schemas import masking
from characters.validators import validate_http_url
from oshara.http import json_input
from oshara.http.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictNumberField,
    StrictSerializer,
)

MAX_TOOLS = 128  # OpenAI's limit on the functions of one request
MAX_MCP_SERVERS = 20
MAX_HEADERS = 20
HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MCP_TRANSPORTS = ["streamable_http", "sse", "http_json"]

MAX_TOPIC_LENGTH = 128
validate_topic = RegexValidator(
    r"^[A-Za-z0-9._-]+\Z",
    "Use letters, digits, dots, underscores or hyphens (a data-channel topic).",
    code="invalid_topic",
)
validate_tool_name = RegexValidator(
    r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}\Z",
    "Use 1-64 letters, digits or underscores, not starting with a digit "
    "(it is the function name the LLM calls).",
    code="invalid_tool_name",
)
# RFC 9110 "token": the characters an HTTP field name may use.
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}\Z")


def validate_header_value(value):
    if any(char in value for char in "\r\n\0"):
        # Never echo the value: it is a credential.
        raise serializers.ValidationError("A header value cannot contain line breaks or NUL.")


class HeadersField(serializers.DictField):
    """{name: value} HTTP headers; values are credentials, so they are only ever shown masked."""

    def __init__(self, **kwargs):
        child = StrictCharField(max_length=4096, validators=[validate_header_value])
        super().__init__(child=child, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        if len(data) > MAX_HEADERS:
            raise serializers.ValidationError(
                f"Ensure there are no more than {MAX_HEADERS} headers."
            )
        result, errors, seen = {}, {}, {}
        for name, value in data.items():
            if not HEADER_NAME.match(name):
                errors[name] = ["Not a valid HTTP header name."]
            elif name.lower() in seen:
                errors[name] = [f'Repeats the header "{seen[name.lower()]}" (names ignore case).']
            else:
                try:
                    result[name] = self.child.run_validation(value)
                except serializers.ValidationError as exc:
                    errors[name] = exc.detail
            seen.setdefault(name.lower(), name)
        if errors:
            raise serializers.ValidationError(errors)
        return result

    def to_representation(self, value):
        return {name: masking.MASK for name in value}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": 'A JSON Schema whose top-level "type" is "object".',
    }
)
class JSONSchemaObjectField(serializers.Field):
    """A JSON Schema (checked against its meta-schema) describing an object."""

    default_error_messages = {"not_object": "Expected a JSON Schema object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        limit = settings.TOOL_INPUT_SCHEMA_MAX_DEPTH
        if json_input.depth_exceeds(data, limit):  # the meta-schema check recurses per level
            raise serializers.ValidationError(f"The schema is nested deeper than {limit} levels.")
        if "$schema" in data:
            schema_validator = validator_for(data, default=None)
            if schema_validator is None:
                raise serializers.ValidationError("Unknown $schema: use a JSON Schema draft URI.")
        else:
            schema_validator = Draft202012Validator
        try:
            schema_validator.check_schema(data)
        except SchemaError as exc:
            raise serializers.ValidationError(
                f"Not a valid JSON Schema at {exc.json_path}: {exc.message}"
            ) from None
        if data.get("type") != "object":
            raise serializers.ValidationError('The top-level "type" must be "object".')
        return data

    def to_representation(self, value):
        return value


class HttpToolConfigSerializer(StrictSerializer):
    url = StrictCharField(max_length=2000, validators=[validate_http_url])
    method = StrictChoiceField(HTTP_METHODS, default="POST")
    headers = HeadersField(default=dict)


class McpToolConfigSerializer(StrictSerializer):
    server_name = StrictCharField(max_length=64)
    tool_name = StrictCharField(max_length=128)


class KbToolConfigSerializer(StrictSerializer):
    """Searches the character's knowledge base (at its kb_query_url): nothing to configure."""


class ClientEventToolConfigSerializer(StrictSerializer):
    """The worker publishes the tool's arguments on this data-channel topic."""

    topic = StrictCharField(max_length=MAX_TOPIC_LENGTH, validators=[validate_topic])


CONFIG_SERIALIZERS = {
    "http": HttpToolConfigSerializer,
    "mcp": McpToolConfigSerializer,
    "kb": KbToolConfigSerializer,
    "client_event": ClientEventToolConfigSerializer,
}
# The arguments a `kb` tool's LLM call fills in when the owner gives no input_schema.
KB_INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to search the knowledge base for."},
        "top_k": {
            "type": "integer",
            "minimum": 1,
            "maximum": 20,
            "description": "How many passages to return.",
        },
    },
    "required": ["query"],
}


def default_input_schema(kind):
    schema = KB_INPUT_SCHEMA if kind == "kb" else {"type": "object", "properties": {}}
    return copy.deepcopy(schema)


class ToolSerializer(StrictSerializer):
    name = StrictCharField(max_length=64, validators=[validate_tool_name])
    kind = StrictChoiceField(list(CONFIG_SERIALIZERS))
    description = StrictCharField(allow_blank=True, max_length=2000, default="")
    # Its default depends on the kind (see to_internal_value).
    input_schema = JSONSchemaObjectField(required=False)
    config = serializers.DictField()

    def to_internal_value(self, data):
        """Check `config` against its kind's schema, reporting it with any other error."""
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        try:
            attrs, errors = super().to_internal_value(data), {}
        except serializers.ValidationError as exc:
            attrs, errors = None, dict(exc.detail)
        kind, config = data.get("kind"), data.get("config")
        known_kind = isinstance(kind, str) and kind in CONFIG_SERIALIZERS
        if known_kind and isinstance(config, dict) and "config" not in errors:
            config_serializer = CONFIG_SERIALIZERS[kind](data=config)
            if config_serializer.is_valid():
                config = config_serializer.validated_data
            else:
                errors["config"] = config_serializer.errors
        if errors:
            raise serializers.ValidationError(errors)
        attrs.setdefault("input_schema", default_input_schema(kind))
        return {**attrs, "config": config}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["config"] = CONFIG_SERIALIZERS[instance["kind"]]().to_representation(
            instance["config"]
        )
        return data


class McpServerSerializer(StrictSerializer):
    name = StrictCharField(max_length=64)
    url = StrictCharField(max_length=2000, validators=[validate_http_url])
    transport = StrictChoiceField(MCP_TRANSPORTS, default="streamable_http")
    headers = HeadersField(default=dict)
    timeout_seconds = StrictNumberField(min_value=2, max_value=30, default=12)
    is_active = StrictBooleanField(default=True)


class StandaloneListField(serializers.Field):
    """A list of nested objects validated on their own, apart from the character.

    DRF hands a PATCH's partial mode down to nested serializers, which would then skip their
    required keys and defaults; every item of these lists is a whole object, even in a PATCH.
    """

    def __init__(self, item_serializer, max_length, **kwargs):
        self.item_serializer, self.max_length = item_serializer, max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        serializer = self.item_serializer(data=data, many=True, max_length=self.max_length)
        if not serializer.is_valid():
            errors = serializer.errors
            if isinstance(errors, dict) and api_settings.NON_FIELD_ERRORS_KEY in errors:
                # A list-level problem (not a list, too long) is a plain message list.
                errors = errors[api_settings.NON_FIELD_ERRORS_KEY]
            raise serializers.ValidationError(errors)
        return serializer.validated_data

    def to_representation(self, value):
        return [self.item_serializer().to_representation(item) for item in value]


def tools_field():
    return StandaloneListField(ToolSerializer, MAX_TOOLS, required=False)


def mcp_servers_field():
    return StandaloneListField(McpServerSerializer, MAX_MCP_SERVERS, required=False)
