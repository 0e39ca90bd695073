"""The /api/knowledge-base/{slug}/documents/ endpoints."""

from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser

from characters.models import Character
from knowledge.models import Document
from knowledge.serializers import DocumentSerializer, DocumentUploadSerializer
from knowledge.tasks import enqueue_processing


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
        characters = Character.objects.only("id").filter(slug=kwargs["slug"], owner=request.user)
        if request.method == "POST":
            # Locked until the upload commits: a concurrent delete of the character then
            # either waits (and removes the new document with it) or wins first (404 here).
            characters = characters.select_for_update()
        self.character = characters.first()
        if self.character is None:
            raise NotFound()

    def get_queryset(self):
        return Document.objects.filter(character=self.character)

    def get_serializer_class(self):
        return DocumentUploadSerializer if self.action == "create" else DocumentSerializer

    def perform_create(self, serializer):
        document = serializer.save(character=self.character)
        enqueue_processing(document.pk)
