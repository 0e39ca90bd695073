"""Admin forms for characters: the model's own validators decide, as they do for the API."""

import json

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError

from characters.admin.editor_data import prune
from characters.admin.editors import MODE_SUFFIX, StructuredJSONWidget, error_map
from characters.models import WRITE_ONLY_KEYS, Character, HandoffTarget
from characters.schemas.appearance import validate_widget_appearance
from characters.validators import (
    HANDOFF_OTHER_OWNER,
    LLM_API_KEY_MAX_LENGTH,
    SESSION_OVERRIDE_KEYS,
    default_session_overrides,
    handoff_errors,
    stored_origins,
    validate_allowed_origins,
)

# Edited with a structured editor drawn from the API's schema (characters/admin/editors.py).
STRUCTURED_FIELDS = ("widget_appearance", "tools", "mcp_servers")

# A blank position puts the target after the numbered ones (PositiveSmallIntegerField's max).
POSITION_AT_END = 32767


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so long appearance objects stay editable."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


def write_only_key_field(label):
    return forms.CharField(
        label=label,
        required=False,
        max_length=LLM_API_KEY_MAX_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current key.",
    )


def clear_key_field():
    return forms.BooleanField(label="Clear key", required=False, help_text="Remove the stored key.")


class CharacterAdminForm(forms.ModelForm):
    """The stored keys never reach the form: they are excluded from the model fields, so they
    are neither loaded, rendered nor compared; a typed value replaces one, a checkbox clears it.
    """

    llm_api_key = write_only_key_field("LLM API key")
    kb_query_api_key = write_only_key_field("Knowledge-base query API key")
    # Declared to settle Django 6's https default now; the model's validators still apply.
    voice_url = forms.URLField(
        label="Voice URL",
        required=False,
        max_length=Character._meta.get_field("voice_url").max_length,
        assume_scheme="https",
    )
    kb_query_url = forms.URLField(
        label="Knowledge-base query URL",
        required=False,
        max_length=Character._meta.get_field("kb_query_url").max_length,
        assume_scheme="https",
        help_text="Where the kb tools search; empty means this service's own query endpoint.",
    )
    clear_llm_api_key = clear_key_field()
    clear_kb_query_api_key = clear_key_field()
    session_overrides = forms.MultipleChoiceField(
        label="Session overrides a page may send",
        required=False,
        choices=[(key, key) for key in SESSION_OVERRIDE_KEYS],
        initial=default_session_overrides,  # a new character's (a declared field has none)
        widget=forms.CheckboxSelectMultiple,
        help_text="What a session start admitted by its Origin alone may override; the "
        "owner's own credentials (a site's backend) may override everything.",
    )

    class Meta:
        model = Character
        # exclude, not fields: it keeps the model field out even where the admin lists the
        # name (for the form field below) in its fieldsets.
        exclude = list(WRITE_ONLY_KEYS)  # noqa: DJ006
        field_classes = {"allowed_origins": PrettyJSONField, "widget_appearance": PrettyJSONField}
        widgets = {name: StructuredJSONWidget(name) for name in STRUCTURED_FIELDS}

    def full_clean(self):
        super().full_clean()
        # Each message that names a place inside the JSON is also shown at that place.
        for name in STRUCTURED_FIELDS:
            if self._errors and name in self._errors and name in self.fields:
                self.fields[name].widget.error_map = error_map(self._errors[name])

    def clean_allowed_origins(self):
        # Model validation skips "empty" values such as {}, so the shared validator runs here.
        value = self.cleaned_data["allowed_origins"]
        value = [] if value is None else value
        validate_allowed_origins(value)
        return stored_origins(value)

    def from_editor(self, name):
        """The field's value, less what the structured editor filled in (not the raw view's)."""
        value = self.cleaned_data[name]
        if self.data.get(self.add_prefix(name) + MODE_SUFFIX) == "structured":
            return prune(value, self.initial.get(name))
        return value

    def clean_tools(self):
        return self.from_editor("tools")

    def clean_mcp_servers(self):
        return self.from_editor("mcp_servers")

    def clean_widget_appearance(self):
        value = self.from_editor("widget_appearance")
        # Stored as the API stores it: the serializer's output (strings trimmed, and so on).
        return validate_widget_appearance({} if value is None else value)

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        instance = self.instance
        if instance.pk and owner and owner.pk != instance.owner_id:
            sources = Character.objects.filter(handoff_links__target=instance).exclude(owner=owner)
            slugs = sorted(sources.values_list("slug", flat=True))
            if slugs:
                raise ValidationError(
                    "Other characters of the current owner hand off to this one (%(slugs)s); "
                    "remove it from their handoff targets first.",
                    code="handoff_source_owner",
                    params={"slugs": ", ".join(slugs)},
                )
        return owner

    def clean(self):
        cleaned_data = super().clean()
        for name in WRITE_ONLY_KEYS:
            if cleaned_data.get(name) and cleaned_data.get(f"clear_{name}"):
                self.add_error(f"clear_{name}", "Either type a new key or clear the key, not both.")
        return cleaned_data

    def save(self, commit=True):
        for name in WRITE_ONLY_KEYS:
            if self.cleaned_data.get(name):
                setattr(self.instance, name, self.cleaned_data[name])
            elif self.cleaned_data.get(f"clear_{name}"):
                setattr(self.instance, name, None)
        return super().save(commit)


class HandoffTargetAutocomplete(AutocompleteSelect):
    """Tells the search which character is being edited, so it can leave it out; the owner
    is added by handoff_autocomplete.js from the form's owner field."""

    source_pk = None

    def get_url(self):
        url = super().get_url()
        return f"{url}?source={self.source_pk}" if self.source_pk else url


class HandoffTargetFormSet(forms.BaseInlineFormSet):
    """The API's handoff rules: the owner's own characters, not itself, no duplicates.
    Order is the position column (blank = at the end), numbered 0..n-1 on save."""

    def clean(self):
        super().clean()
        source = self.instance
        forms = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("target") is not None
        ]
        targets = [form.cleaned_data["target"] for form in forms]
        errors = handoff_errors(source.pk, [target.pk for target in targets])
        for index, (form, target) in enumerate(zip(forms, targets, strict=True)):
            if index in errors:
                form.add_error("target", errors[index])
            elif source.owner_id is not None and target.owner_id != source.owner_id:
                form.add_error("target", HANDOFF_OTHER_OWNER)

    def validate_unique(self):
        # Duplicates are reported by clean() with the API's message.
        return

    def save(self, commit=True):
        """The list is already written, with the character and as one version of it
        (CharacterAdmin.save_related, through the service); this reports what changed, for
        the admin's history."""
        before = {link.target_id: link for link in self.get_queryset()}
        links = list(HandoffTarget.objects.filter(source=self.instance))
        kept = {link.target_id for link in links}
        self.new_objects = [link for link in links if link.target_id not in before]
        self.deleted_objects = [link for pk, link in before.items() if pk not in kept]
        self.changed_objects = []
        return links

    def ordered_targets(self):
        """The targets kept, by position (blank = at the end), then by row."""
        kept = [
            (form.cleaned_data.get("position"), index, form.cleaned_data["target"])
            for index, form in enumerate(self.forms)
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("target") is not None
        ]
        return [target for _, _, target in sorted(kept, key=lambda item: item[:2])]


class HandoffTargetForm(forms.ModelForm):
    class Meta:
        model = HandoffTarget
        fields = ["target", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        self.fields["position"].help_text = "Order in the list; blank puts it at the end."
        if self.instance.pk is None:
            self.initial.pop("position", None)

    def clean_position(self):
        position = self.cleaned_data["position"]
        return POSITION_AT_END if position is None else position
