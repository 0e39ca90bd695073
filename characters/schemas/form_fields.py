"""One field of a widget form: `widget_appearance.forms[].fields[]` (and of each step)."""

import math
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from characters.schemas.field_values import default_value_problem, parse_bound
from oshara.http.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)

MAX_OPTIONS = 100

FORM_FIELD_TYPES = [
    "text", "email", "tel", "number", "url", "textarea",
    "select", "radio", "checkbox", "date", "time",
]  # fmt: skip
TYPES_NEEDING_OPTIONS = {"select", "radio"}
TYPES_TAKING_OPTIONS = TYPES_NEEDING_OPTIONS | {"checkbox"}
# A field name becomes a property of the tool's parameters and of the submitted body.
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")


def refuse_nul(value):
    """As CharField does: the stored JSON is PostgreSQL jsonb, which cannot hold \u0000."""
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError("Null characters are not allowed.")


def text(**kwargs):
    """A string kept exactly as sent (no whitespace trimming)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("max_length", 200)
    return StrictCharField(trim_whitespace=False, **kwargs)


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}]})
class NumberOrStringField(serializers.Field):
    """`min`/`max`: a number (for numbers and lengths) or an ISO string (for dates, times)."""

    default_error_messages = {"invalid": "Enter a number or an ISO date/time string."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class OptionSerializer(StrictSerializer):
    value = text(required=True, allow_blank=False)
    label = text(allow_blank=True)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1, "maxLength": 200},
            {
                "type": "object",
                "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                "required": ["value"],
                "additionalProperties": False,
            },
        ]
    }
)
class OptionField(serializers.Field):
    """One choice of a select/radio/checkbox: "Red" or {"value": "red", "label": "Red"}."""

    default_error_messages = {"invalid": 'Enter a string or an object {{"value", "label"}}.'}

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not data or len(data) > 200:
                raise serializers.ValidationError("Enter a non-empty string of at most 200 chars.")
            refuse_nul(data)
            return data
        if isinstance(data, dict):
            option = OptionSerializer(data=data)
            if not option.is_valid():
                raise serializers.ValidationError(option.errors)
            return option.validated_data
        self.fail("invalid")

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "description": "Pre-fill: a value of the field's type (one of the options for "
        "select/radio, a boolean for checkbox).",
    }
)
class DefaultValueField(serializers.Field):
    """A JSON scalar (or a list of option values); checked against the field's type by
    FormFieldSerializer.validate()."""

    default_error_messages = {"invalid": "Enter a string, a number, a boolean or a list."}

    def to_internal_value(self, data):
        if not isinstance(data, str | int | float | bool | list):
            self.fail("invalid")
        for value in data if isinstance(data, list) else [data]:
            refuse_nul(value)
        return data

    def to_representation(self, value):
        return value


def option_value(option):
    return option if isinstance(option, str) else option["value"]


class FormFieldSerializer(StrictSerializer):
    name = text(required=True, max_length=64)
    label = text(allow_blank=True)
    type = StrictChoiceField(FORM_FIELD_TYPES, required=False)
    required = StrictBooleanField(required=False)
    placeholder = text(allow_blank=True)
    options = serializers.ListField(
        child=OptionField(), required=False, allow_empty=False, max_length=MAX_OPTIONS
    )
    width = StrictChoiceField(["full", "half"], required=False)
    rows = StrictIntegerField(required=False, min_value=1, max_value=50)
    pattern = text(allow_blank=False, max_length=500)
    min = NumberOrStringField(required=False)
    max = NumberOrStringField(required=False)
    default_value = DefaultValueField(required=False)

    def validate_name(self, value):
        if not FIELD_NAME.match(value):
            raise serializers.ValidationError(
                "Use a letter or _ followed by up to 63 letters, digits, _, . or -."
            )
        return value

    def validate_options(self, value):
        values = [option_value(option) for option in value]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Duplicate options: {', '.join(duplicates)}.")
        return value

    def validate_pattern(self, value):
        try:
            re.compile(value)
        except re.error as exc:
            raise serializers.ValidationError(f"Not a valid regular expression: {exc}.") from None
        return value

    def validate(self, attrs):
        field_type = attrs.get("type", "text")
        errors = {}
        if field_type in TYPES_NEEDING_OPTIONS and "options" not in attrs:
            errors["options"] = [f'A "{field_type}" field needs a list of options.']
        if field_type not in TYPES_TAKING_OPTIONS and "options" in attrs:
            errors["options"] = ["Only select, radio and checkbox fields take options."]
        if field_type != "textarea" and "rows" in attrs:
            errors["rows"] = ["Only textarea fields take rows."]
        bounds = {}
        for key in ("min", "max"):
            if key in attrs:
                try:
                    bounds[key] = parse_bound(field_type, attrs[key])
                except ValueError as exc:
                    errors[key] = [str(exc)]
        if len(bounds) == 2 and bounds["min"] > bounds["max"]:
            errors["max"] = ["max must not be lower than min."]
        if "default_value" in attrs and not errors:
            options = attrs.get("options")
            values = [option_value(option) for option in options] if options else None
            if problem := default_value_problem(attrs, values, bounds):
                errors["default_value"] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
