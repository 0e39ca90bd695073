"""The widget appearance schema: the owner's overrides, strictly validated."""

from rest_framework import serializers

from characters.serializers.base import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictSerializer,
)
from characters.validators import validate_hex_colour


class ThemeSerializer(StrictSerializer):
    primary_color = StrictCharField(required=False, validators=[validate_hex_colour])
    accent_color = StrictCharField(required=False, validators=[validate_hex_colour])
    background_color = StrictCharField(required=False, validators=[validate_hex_colour])
    text_color = StrictCharField(required=False, validators=[validate_hex_colour])
    user_bubble_color = StrictCharField(required=False, validators=[validate_hex_colour])
    user_bubble_text_color = StrictCharField(required=False, validators=[validate_hex_colour])
    agent_bubble_color = StrictCharField(required=False, validators=[validate_hex_colour])
    agent_bubble_text_color = StrictCharField(required=False, validators=[validate_hex_colour])


FORM_FIELD_TYPES = [
    "text", "email", "tel", "number", "url", "textarea",
    "select", "radio", "checkbox", "date", "time",
]  # fmt: skip


class FormFieldSerializer(StrictSerializer):
    name = StrictCharField(max_length=64)
    label = StrictCharField(required=False, allow_blank=True, max_length=200)
    type = StrictChoiceField(FORM_FIELD_TYPES, required=False)
    required = StrictBooleanField(required=False)


class FormSerializer(StrictSerializer):
    id = StrictCharField(max_length=64)
    title = StrictCharField(max_length=200)
    submit_url = StrictCharField(required=False, allow_null=True, max_length=500)
    fields = FormFieldSerializer(many=True, required=False)

    def validate_fields(self, value):
        names = [field["name"] for field in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Duplicate field names: {', '.join(duplicates)}.")
        return value


class WidgetAppearanceSerializer(StrictSerializer):
    name = StrictCharField(required=False, allow_blank=True, max_length=100)
    theme = ThemeSerializer(required=False)
    forms = FormSerializer(many=True, required=False)

    def validate_forms(self, value):
        ids = [form["id"] for form in value]
        duplicates = sorted({form_id for form_id in ids if ids.count(form_id) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Duplicate form ids: {', '.join(duplicates)}.")
        return value

    def to_representation(self, instance):
        # What is stored is exactly the validated overrides; hand them back unchanged.
        return instance
