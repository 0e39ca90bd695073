from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from characters.validators import validate_slug
from knowledge.models import Document
from knowledge.validators import detect_document_type
from oshara.http.strict import RejectUnknownFieldsMixin

QUERY_MAX_LENGTH = 1000


class DocumentProgressSerializer(serializers.ModelSerializer):
    """Where processing is: queued → extracting → chunking → embedding → done. A FAILED
    document keeps the stage it failed in; a total is null until it is known."""

    class Meta:
        model = Document
        fields = ["stage", "pages_done", "pages_total", "chunks_done", "chunks_total"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.SerializerMethodField(
        help_text="Where the owner downloads the file (authenticated, as an attachment)."
    )
    name = serializers.CharField(read_only=True, help_text="The stored file's name.")
    progress = DocumentProgressSerializer(source="*", read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "file",
            "name",
            "file_type",
            "status",
            "progress",
            "chunk_count",
            "error",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, document):
        # document.character is known without a query: prefetched with the character, or
        # set by the character's related manager (knowledge/views.py).
        path = reverse("document-file", kwargs={"slug": document.character.slug, "pk": document.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DocumentUploadSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """Multipart `file`; the type is decided from its content. Responds as DocumentSerializer."""

    file = serializers.FileField(allow_empty_file=True, max_length=None, use_url=True)

    class Meta:
        model = Document
        fields = ["file"]

    def validate_file(self, file):
        try:
            self._file_type = detect_document_type(file)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return file

    def create(self, validated_data):
        return super().create({**validated_data, "file_type": self._file_type})

    def to_representation(self, instance):
        return DocumentSerializer(instance, context=self.context).data


class KnowledgeQuerySerializer(serializers.Serializer):
    """The query string's keys; other parameters are ignored, as query strings go."""

    slug = serializers.CharField(
        required=False,
        validators=[validate_slug],
        help_text="The character's slug; required, except with a call session's search key "
        "(which searches that session's character).",
    )
    q = serializers.CharField(
        max_length=QUERY_MAX_LENGTH, help_text="The question, in natural language."
    )
    top_k = serializers.IntegerField(
        min_value=1, max_value=20, default=5, help_text="How many passages (1-20)."
    )


class KnowledgeQueryBodySerializer(RejectUnknownFieldsMixin, KnowledgeQuerySerializer):
    """The same keys as a JSON object; unknown keys are a 400 naming them."""


class PassageMetadataSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="The document's file name.")
    page = serializers.IntegerField(
        allow_null=True, help_text="The PDF page (from 1); null for other file types."
    )


class PassageSerializer(serializers.Serializer):
    text = serializers.CharField()
    metadata = PassageMetadataSerializer()
