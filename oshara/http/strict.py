"""Strict building blocks: no silent type coercion, no silently dropped keys."""

import copy
import math

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, booleans and other non-strings."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """Only JSON integers (not strings, floats or booleans)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictNumberField(serializers.FloatField):
    """Only finite JSON numbers (not strings or booleans), kept as sent: 12 stays 12 and
    12.5 stays 12.5, in the stored value and in responses."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        super().to_internal_value(data)  # the float conversion's own checks
        return data

    def to_representation(self, value):
        return value


class StrictChoiceField(serializers.ChoiceField):
    """A ChoiceField whose error lists the valid choices."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        listed = ", ".join(f'"{key}"' for key in self.choices)
        self.error_messages["invalid_choice"] = (
            '"{input}" is not a valid choice. Choose one of: ' + listed + "."
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin:
    """Unknown keys are a 400 naming them; read-only fields sent back are ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class GivenFieldsMixin:
    """A request body's serializer that builds only the fields the body names, the required
    ones and those with a default: DRF deep-copies every declared field into each instance
    (about 30 µs a field), while an optional field the body leaves out validates nothing.
    Kept because the benchmark shows it pays: session start, whose body is usually
    `{"agent"}` alone of its 9 fields, spent a fifth of its time building fields
    (bench/README.md). Without data (the schema, a response) every field is built, as DRF
    does."""

    def get_fields(self):
        data = getattr(self, "initial_data", None)
        if not isinstance(data, dict):
            return super().get_fields()
        return {
            name: copy.deepcopy(field)
            for name, field in self._declared_fields.items()
            if name in data or field.required or field.default is not serializers.empty
        }


class StrictSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A nested object with a closed set of keys."""

    def to_internal_value(self, data):
        # DRF skips required fields whenever the root is partial, but a nested object is
        # replaced whole, by PATCH too: its required keys stay required.
        if isinstance(data, dict) and getattr(self.root, "partial", False):
            missing = {
                field.field_name: [field.error_messages["required"]]
                for field in self._writable_fields
                if field.required and field.field_name not in data
            }
            if missing:
                raise serializers.ValidationError(missing)
        return super().to_internal_value(data)
