"""The widget appearance schema: the owner's overrides, strictly validated.

Every key is optional and nothing is filled in: what is stored is exactly what the owner sent.
The defaults live in characters/widget/defaults.py and are merged in only when the widget fetches.
"""

import re

from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.fields import empty

from characters.schemas.form_fields import text
from characters.schemas.lead_forms import form_list, validate_unique_form_ids
from characters.validators import (
    flatten_errors,
    validate_hex_colour,
    validate_http_url,
    validate_language,
)
from oshara.http.strict import (
    StrictBooleanField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)

MAX_LANGUAGES = 100
MAX_CALL_SECONDS = 24 * 60 * 60
WIDGET_POSITIONS = ["bottom-right", "bottom-left", "top-right", "top-left"]
# A CSS font-family list; no ; { } ( ) so it cannot break out of the declaration.
FONT_FAMILY = re.compile(r"""^[\w\s,'".-]+\Z""")


def optional_url():
    """ "" or an absolute http(s) URL."""
    return text(allow_blank=True, max_length=500, validators=[validate_http_url])


def colour():
    return text(validators=[validate_hex_colour], max_length=9)


def dimension(min_value, max_value):
    return StrictIntegerField(required=False, min_value=min_value, max_value=max_value)


class ThemeSerializer(StrictSerializer):
    primary_color = colour()
    accent_color = colour()
    background_color = colour()
    text_color = colour()
    user_bubble_color = colour()
    user_bubble_text_color = colour()
    agent_bubble_color = colour()
    agent_bubble_text_color = colour()


class DimensionsSerializer(StrictSerializer):
    """Pixels."""

    fab_size = dimension(16, 256)
    panel_width = dimension(200, 1600)
    panel_height = dimension(200, 2000)
    border_radius = dimension(0, 200)


class LayoutSerializer(StrictSerializer):
    position = StrictChoiceField(WIDGET_POSITIONS, required=False)
    font_family = text(max_length=200)

    def validate_font_family(self, value):
        if not FONT_FAMILY.match(value):
            raise serializers.ValidationError(
                'Enter a CSS font-family list such as "Inter, sans-serif" '
                "(letters, digits, spaces, commas, quotes, dots, hyphens)."
            )
        return value


class LabelsSerializer(StrictSerializer):
    idle = text(allow_blank=True)
    connecting = text(allow_blank=True)
    listening = text(allow_blank=True)
    speaking = text(allow_blank=True)
    muted = text(allow_blank=True)
    call_ended = text(allow_blank=True)
    transcript_placeholder = text(allow_blank=True)
    language_label = text(allow_blank=True)


class LanguageSerializer(StrictSerializer):
    code = text(required=True, max_length=35, validators=[validate_language])
    label = text(required=True, max_length=100)
    native_label = text(allow_blank=True, max_length=100)


class WidgetAppearanceSerializer(StrictSerializer):
    name = text(allow_blank=True, max_length=100)
    subtitle = text(allow_blank=True)
    logo_url = optional_url()
    fab_label = text(allow_blank=True, max_length=100)
    fab_sublabel = text(allow_blank=True, max_length=100)
    start_button_text = text(max_length=100)
    powered_by_text = text(allow_blank=True, max_length=100)
    powered_by_url = optional_url()
    max_call_seconds = StrictIntegerField(required=False, min_value=0, max_value=MAX_CALL_SECONDS)
    terms_url = optional_url()
    terms_label = text(allow_blank=True, max_length=100)
    consent_text = text(allow_blank=True, max_length=500)
    show_audio_settings = StrictBooleanField(required=False)
    default_language = text(max_length=35, validators=[validate_language])
    theme = ThemeSerializer(required=False)
    dimensions = DimensionsSerializer(required=False)
    layout = LayoutSerializer(required=False)
    labels = LabelsSerializer(required=False)
    languages = LanguageSerializer(many=True, required=False, max_length=MAX_LANGUAGES)
    forms = form_list()

    def run_validation(self, data=empty):
        # The object is replaced as a whole, even by PATCH; DRF would pass the parent's
        # `partial` down and skip every required key (a form without an id would pass).
        if data is not empty and data is not None and getattr(self.root, "partial", False):
            whole = WidgetAppearanceSerializer(data=data)
            whole.is_valid(raise_exception=True)
            return whole.validated_data
        return super().run_validation(data)

    def validate_languages(self, value):
        seen, errors = set(), {}
        for index, language in enumerate(value):
            code = language["code"].lower()
            if code in seen:
                errors[index] = {"code": ["This language is already listed."]}
            seen.add(code)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate_forms(self, value):
        return validate_unique_form_ids(value)

    def validate(self, attrs):
        languages = attrs.get("languages")
        if languages and "default_language" in attrs:
            codes = {language["code"].lower() for language in languages}
            if attrs["default_language"].lower() not in codes:
                raise serializers.ValidationError(
                    {"default_language": ["The default language must be one of `languages`."]}
                )
        return attrs

    def to_representation(self, instance):
        # What is stored is exactly the validated overrides; hand them back unchanged.
        return instance


def validate_widget_appearance(value):
    """The model-level rule: the same serializer the API uses, errors flattened to paths."""
    serializer = WidgetAppearanceSerializer(data=value)
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors), code="invalid_appearance")
    # Django ignores a validator's result; the admin form stores it, as the API does.
    return serializer.validated_data
