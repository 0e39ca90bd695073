from rest_framework import serializers

from knowledge.models import Document


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "file", "file_type", "status", "chunk_count", "error", "created_at"]
        read_only_fields = fields
