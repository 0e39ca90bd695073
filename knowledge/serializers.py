from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from knowledge.models import Document
from knowledge.validators import detect_document_type
from oshara.http.strict import RejectUnknownFieldsMixin


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.SerializerMethodField(
        help_text="Where the owner downloads the file (authenticated, as an attachment)."
    )
    name = serializers.CharField(read_only=True, help_text="The stored file's name.")

    class Meta:
        model = Document
        fields = ["id", "file", "name", "file_type", "status", "chunk_count", "error", "created_at"]
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
