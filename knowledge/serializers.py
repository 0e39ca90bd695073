from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from knowledge.models import Document
from knowledge.validators import detect_document_type
from oshara.http.strict import RejectUnknownFieldsMixin


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "file", "file_type", "status", "chunk_count", "error", "created_at"]
        read_only_fields = fields


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
