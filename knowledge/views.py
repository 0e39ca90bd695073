"""The /api/knowledge-base/{slug}/documents/ endpoints."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser

from characters.models import Character
from knowledge.models import Document
from knowledge.serializers import DocumentSerializer, DocumentUploadSerializer
from knowledge.tasks import enqueue_processing

DOCUMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The document's id.")


@extend_schema_view(
    create=extend_schema(responses={201: DocumentSerializer}),
    retrieve=extend_schema(parameters=[DOCUMENT_ID]),
    destroy=extend_schema(parameters=[DOCUMENT_ID]),
)
@extend_schema(tags=["knowledge-base"])
class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Documents of one of the caller's characters; anyone else's slug is a 404."""

    parser_classes = [MultiPartParser]
    lookup_value_regex = "[0-9]+"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates first: 401 before 404
        self.character = (
            Character.objects.only("id").filter(slug=kwargs["slug"], owner=request.user).first()
        )
        if self.character is None:
            raise NotFound()

    def get_queryset(self):
        return Document.objects.filter(character=self.character)

    def get_serializer_class(self):
        return DocumentUploadSerializer if self.action == "create" else DocumentSerializer

    def perform_create(self, serializer):
        document = serializer.save(character=self.character)
        enqueue_processing(document.pk)
