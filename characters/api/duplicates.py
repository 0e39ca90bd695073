"""POST /api/ai-characters/{slug}/duplicate/: what its body says."""

from django.db import models
from rest_framework import serializers

from characters.api.serializers import version_of
from characters.models import Character
from characters.version_models import MAX_NUMBER
from oshara.http.strict import RejectUnknownFieldsMixin, StrictCharField, StrictIntegerField


class DuplicateSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """The copy's slug, under the create's rules (the model field's: its pattern, its length,
    and a taken one is a 400), its name (default: the source's), and the version of the source
    to copy (default: the newest)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
    }
    version = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_NUMBER,
        help_text="The version of the source to copy (default: its newest).",
    )

    class Meta:
        model = Character
        fields = ["slug", "name", "version"]
        extra_kwargs = {"name": {"required": False}}

    def validate_version(self, value):
        return version_of(self.context["character"], value)
