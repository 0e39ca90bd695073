"""The /api/knowledge-base/ endpoints: a character's documents, and search over them."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from characters.models import Character
from characters.selectors import characters_of_active_owners
from knowledge.authentication import KBQueryKeyAuthentication, KBQueryWorker, SessionSearcher
from knowledge.embeddings import EmbeddingError
from knowledge.models import CONTENT_TYPES
from knowledge.search import search
from knowledge.serializers import (
    DocumentSerializer,
    DocumentUploadSerializer,
    KnowledgeQueryBodySerializer,
    KnowledgeQuerySerializer,
    PassageSerializer,
)
from knowledge.tasks import enqueue_processing
from knowledge.throttling import KBQueryKeyThrottle
from oshara.http.files import harden_file_response
from oshara.http.json_input import StrictJSONParser
from oshara.schema import error_response

DOCUMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The document's id.")


class AnyAcceptNegotiation(DefaultContentNegotiation):
    """A download answers with the file's own type whatever Accept asks for (a client asking
    for application/pdf must not get a 406); its errors are still JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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
        parameters=[DOCUMENT_ID],
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


class SearchUnavailable(APIException):
    status_code = 503
    default_detail = "Knowledge-base search is unavailable right now; try again later."
    default_code = "search_unavailable"


QUERY_DESCRIPTION = (
    "The character's passages most similar to `q` (cosine similarity of embeddings), best "
    "first; only processed documents count. Authenticate, narrowest first, with a call "
    "session's search key (`X-API-Key: kbs_…`, the runtime's `kb_query_api_key`: that "
    "session's character only, so `slug` may be left out; it stops working an hour after the "
    "session's report), with `X-API-Key: <KB_QUERY_API_KEY>` (the voice worker: any "
    "character, `slug` required, throttled per address) or as the owner (own characters only, "
    "`slug` required; someone else's slug is a 404)."
)
QUERY_RESPONSES = {
    200: PassageSerializer(many=True),
    400: error_response(400),
    404: error_response(404, "No such character, or not yours."),
    503: error_response(503, "The embedding model is unavailable."),
}


@extend_schema(tags=["knowledge-base"])
class KnowledgeQueryView(APIView):
    """GET with a query string or POST with a JSON body: the same keys, the same answer."""

    # The worker's keys first; any other X-API-Key (a user's key) or a JWT goes on to the
    # owner's authentication, exactly as on every other endpoint.
    authentication_classes = [
        KBQueryKeyAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    ]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Search a knowledge base",
        operation_id="api_knowledge_base_query",
        description=QUERY_DESCRIPTION,
        parameters=[KnowledgeQuerySerializer],
        responses=QUERY_RESPONSES,
    )
    def get(self, request):
        return self.answer(KnowledgeQuerySerializer(data=request.query_params))

    @extend_schema(
        summary="Search a knowledge base (JSON body)",
        operation_id="api_knowledge_base_query_post",
        description=QUERY_DESCRIPTION,
        request=KnowledgeQueryBodySerializer,
        responses=QUERY_RESPONSES,
    )
    def post(self, request):
        return self.answer(KnowledgeQueryBodySerializer(data=request.data))

    def answer(self, serializer):
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        character = self.get_character(query.get("slug"))
        try:
            passages = search(character, query["q"], query["top_k"])
        except EmbeddingError:
            raise SearchUnavailable() from None
        return Response(passages)

    def get_character(self, slug):
        user = self.request.user
        characters = characters_of_active_owners().only("pk", "revision")
        if isinstance(user, SessionSearcher):
            # The session's own character; a slug, when sent, must name it.
            characters = characters.filter(pk=user.character_id)
            if slug is not None:
                characters = characters.filter(slug=slug)
        elif slug is None:
            raise ValidationError({"slug": ["This field is required."]})
        elif isinstance(user, KBQueryWorker):
            characters = characters.filter(slug=slug)
        else:
            characters = characters.filter(slug=slug, owner=user)
        character = characters.first()
        if character is None:
            raise NotFound()
        return character

    def get_throttles(self):
        # The service-wide key reaches every character: its own budget per client address.
        # A session's key counts per session, a user per user (APIUserRateThrottle).
        if isinstance(self.request.user, KBQueryWorker):
            return [KBQueryKeyThrottle()]
        return super().get_throttles()

    def get_authenticate_header(self, request):
        # The worker's key has no scheme: a 401 names the owner's, as other endpoints do.
        for authenticator in request.authenticators[1:]:
            if header := authenticator.authenticate_header(request):
                return header
        return None
