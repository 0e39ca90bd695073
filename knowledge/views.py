"""The /api/knowledge-base/{slug}/documents/ endpoints."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser

from characters.models import Character
from knowledge.models import CONTENT_TYPES
from knowledge.serializers import DocumentSerializer, DocumentUploadSerializer
from knowledge.tasks import enqueue_processing
from oshara.http.files import harden_file_response


class AnyAcceptNegotiation(DefaultContentNegotiation):
    """A download answers with the file's own type whatever Accept asks for (a client asking
    for application/pdf must not get a 406); its errors are still JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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
        characters = Character.objects.only("id", "slug").filter(
            slug=kwargs["slug"], owner=request.user
        )
        if request.method == "POST":
            # Locked until the upload commits: a concurrent delete of the character then
            # either waits (and removes the new document with it) or wins first (404 here).
            characters = characters.select_for_update()
        self.character = characters.first()
        if self.character is None:
            raise NotFound()

    def get_queryset(self):
        # Through the related manager, each document knows its character without a query.
        return self.character.documents.all()

    def get_serializer_class(self):
        return DocumentUploadSerializer if self.action == "create" else DocumentSerializer

    def perform_create(self, serializer):
        document = serializer.save(character=self.character)
        enqueue_processing(document.pk)

    @extend_schema(
        summary="Download a document's file (as an attachment)",
        responses={
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY)
                for content_type in CONTENT_TYPES.values()
            },
            404: OpenApiResponse(description="No such document of yours."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def file(self, request, *args, **kwargs):
        """The stored file, private to the owner: never served under /media/."""
        document = self.get_object()
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.name,
            content_type=document.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        return harden_file_response(response)
