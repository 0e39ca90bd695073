"""The form-response bodies: a visitor's submission (checked against the form) and a stored
response."""

from rest_framework import serializers

from calls.form_values import values_errors
from calls.models import FormResponse
from calls.selectors import session_of
from characters.widget.defaults import merged_appearance
from oshara.http.strict import RejectUnknownFieldsMixin, StrictCharField

EXTERNAL_FORM = "This form has a submit_url: this form posts to its own URL."


class FormValuesField(serializers.DictField):
    """{field name: value}; each value is checked against the form in the serializer."""

    child = serializers.JSONField(allow_null=True)


class FormSubmissionSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A visitor's answers to one of the character's forms, in one of its call sessions."""

    # Needs `character` in its context; validated_data then holds the merged form and the
    # session record in place of their ids.

    form_id = StrictCharField(max_length=64, help_text="The `id` of one of the character's forms.")
    session_id = StrictCharField(
        max_length=40, help_text="The call session the form was filled in (`sess_…`)."
    )
    values = FormValuesField(help_text="The answers by field name, as the form defines them.")

    def validate_form_id(self, value):
        appearance = merged_appearance(self.context["character"].widget_appearance)
        form = next((form for form in appearance["forms"] if form["id"] == value), None)
        if form is None:
            raise serializers.ValidationError("This character has no form with this id.")
        if form.get("submit_url") is not None:
            raise serializers.ValidationError(EXTERNAL_FORM)
        if form.get("disabled"):
            raise serializers.ValidationError("This form is disabled.")
        return form

    def validate_session_id(self, value):
        session = session_of(self.context["character"], value)
        if session is None:
            raise serializers.ValidationError("This character has no session with this id.")
        return session

    def validate(self, attrs):
        if errors := values_errors(attrs["form_id"], attrs["values"]):
            raise serializers.ValidationError({"values": errors})
        return attrs


class FormResponseSerializer(serializers.ModelSerializer):
    session_id = serializers.CharField(source="session_key", read_only=True)
    values = serializers.DictField(
        child=serializers.JSONField(), read_only=True, help_text="As submitted, by field name."
    )

    class Meta:
        model = FormResponse
        fields = ["id", "form_id", "session_id", "values", "created_at"]
        read_only_fields = fields
