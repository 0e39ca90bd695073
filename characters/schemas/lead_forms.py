"""Forms the widget can show (and the agent can fill in as tools): `widget_appearance.forms`."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from characters.schemas.form_fields import FormFieldSerializer, text
from characters.validators import validate_http_url
from oshara.http.strict import (
    StrictBooleanField,
    StrictChoiceField,
    StrictSerializer,
)

MAX_FORMS = 20
MAX_FIELDS_PER_FORM = 50
MAX_STEPS = 20
MAX_TAGS = 20

# A form id becomes a tool name (hyphens -> underscores), so it must be a valid one.
FORM_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}\Z")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")


def tool_name(form_id):
    return form_id.replace("-", "_")


# A submit_url that is not absolute: a path on the API's host ("/forms/submit"), or one
# relative to the widget's apiUrl ("forms/submit"), which the widget resolves. Never another
# host or scheme: no "//host", no backslash (browsers read it as "/"), no colon before the
# first "/" (a scheme such as "javascript:"), no whitespace or NUL.
SUBMIT_PATH = re.compile(r"^(/|/[^/\s\\\x00][^\s\\\x00]*|[^/:?#\s\\\x00]+([/?#][^\s\\\x00]*)?)\Z")


def validate_submit_url(value):
    """An absolute http(s) URL, or a path (SUBMIT_PATH); null (managed storage) never
    reaches validators."""
    if SUBMIT_PATH.match(value):
        return
    try:
        validate_http_url(value)
    except DjangoValidationError:
        raise serializers.ValidationError(
            "Enter an absolute http(s) URL, a path (/forms/submit, or forms/submit relative "
            "to the widget's apiUrl), or null."
        ) from None


def form_fields(required=True):
    return FormFieldSerializer(
        many=True, required=required, allow_empty=False, max_length=MAX_FIELDS_PER_FORM
    )


class FormStepSerializer(StrictSerializer):
    id = text(max_length=64)
    title = text(required=True)

    def validate_id(self, value):
        if not STEP_ID.match(value):
            raise serializers.ValidationError(
                "Use a letter or digit followed by up to 63 letters, digits, _ or -."
            )
        return value

    fields = form_fields()


class FormLayoutSerializer(StrictSerializer):
    field_layout = StrictChoiceField(["stack", "grid"], required=False)


def tag_list():
    return serializers.ListField(
        child=text(required=True, max_length=100), required=False, max_length=MAX_TAGS
    )


class FormSerializer(StrictSerializer):
    id = text(required=True, max_length=64)
    title = text(required=True)
    subtitle = text(allow_blank=True, max_length=500)
    fields = form_fields(required=False)
    steps = FormStepSerializer(many=True, required=False, allow_empty=False, max_length=MAX_STEPS)
    submit_url = text(allow_null=True, max_length=500, validators=[validate_submit_url])
    submit_method = StrictChoiceField(["POST", "PUT", "PATCH"], required=False)
    submit_label = text(max_length=100)
    success_message = text(allow_blank=True, max_length=500)
    disabled = StrictBooleanField(required=False)
    topics = tag_list()
    event_types = tag_list()
    confirmation_topic = text(max_length=100)
    confirmation_type = text(max_length=100)
    layout = FormLayoutSerializer(required=False)

    def validate_id(self, value):
        if not FORM_ID.match(value):
            raise serializers.ValidationError(
                "Use a letter followed by up to 63 letters, digits, _ or -."
            )
        return value

    def validate(self, attrs):
        has_fields, has_steps = "fields" in attrs, "steps" in attrs
        if has_fields == has_steps:
            raise serializers.ValidationError(
                {"non_field_errors": ['Give either "fields" or "steps" (exactly one of them).']}
            )
        if has_fields:
            if errors := duplicate_name_errors(attrs["fields"], set()):
                raise serializers.ValidationError({"fields": errors})
        else:
            seen, step_ids, step_errors = set(), set(), {}
            for index, step in enumerate(attrs["steps"]):
                if errors := duplicate_name_errors(step["fields"], seen):
                    step_errors[index] = {"fields": errors}
                if "id" in step:
                    if step["id"] in step_ids:
                        step_errors.setdefault(index, {})["id"] = [
                            "Another step of this form already has this id."
                        ]
                    step_ids.add(step["id"])
            if step_errors:
                raise serializers.ValidationError({"steps": step_errors})
        return attrs


def duplicate_name_errors(fields, seen):
    """Errors for field names already used in the form (`seen` spans every step)."""
    errors = {}
    for index, field in enumerate(fields):
        if field["name"] in seen:
            errors[index] = {"name": ["This field name is already used in the form."]}
        seen.add(field["name"])
    return errors


def validate_unique_form_ids(forms):
    """Ids must stay distinct once turned into tool names ("book-demo" vs "book_demo")."""
    seen, errors = set(), {}
    for index, form in enumerate(forms):
        name = tool_name(form["id"])
        if name in seen:
            errors[index] = {"id": ["Another form already has this id (hyphens count as _)."]}
        seen.add(name)
    if errors:
        raise serializers.ValidationError(errors)
    return forms


def form_list():
    return FormSerializer(many=True, required=False, max_length=MAX_FORMS)
