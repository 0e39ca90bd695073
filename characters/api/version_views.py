"""/api/ai-characters/{slug}/versions/: a character's history, a version, a diff, a restore."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.organizations.acting import acting_organization
from accounts.organizations.permissions import OrganizationRole
from characters import history, services
from characters.api import versions
from characters.api.authentication import organization_filter
from characters.api.authorship import NOTE_PARAMETER, change_of
from characters.api.concurrency import one_transaction_per_write
from characters.api.pagination import PAGE_HEADERS, AnchoredLimitOffsetPagination
from characters.api.serializers import CharacterSerializer
from characters.api.version_serializers import (
    DiffSerializer,
    VersionDetailSerializer,
    VersionSerializer,
)
from characters.models import Character, CharacterVersion
from characters.selectors import characters_for_reading
from characters.version_models import MAX_NUMBER, Source
from oshara.http.conditional import evaluate_preconditions
from oshara.schema import error_response

NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="The version.")
TO = OpenApiParameter(
    "to", OpenApiTypes.INT, description="The version to compare with (default: the newest)."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Only if the character's ETag still matches (else 412).",
)


@extend_schema_view(
    list=extend_schema(
        summary="List a character's versions",
        description="Newest first, as a plain array; with `limit` (and `offset`) the total "
        "and page links travel in headers.",
        parameters=[*PAGE_HEADERS],
        responses={200: VersionSerializer(many=True), 400: error_response(400)},
    ),
    retrieve=extend_schema(
        summary="Retrieve a version",
        description="Its metadata and the character as it was then (secrets masked).",
        parameters=[NUMBER],
        responses={200: VersionDetailSerializer},
    ),
)
@extend_schema(tags=["versions"])
class CharacterVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The versions of a character of the acting organization; another organization's slug is
    a 404. Every role reads them; a restore takes an editor (OrganizationRole)."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    lookup_field = "number"
    lookup_value_regex = "[0-9]{1,10}"
    # Deep pages of a long history cost what the first does (the anchor is the number).
    pagination_class = AnchoredLimitOffsetPagination
    serializer_class = VersionSerializer

    @classmethod
    def as_view(cls, *args, **kwargs):
        # A restore is one transaction with the character's row locked, as any write.
        return one_transaction_per_write(super().as_view(*args, **kwargs))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates first: 401 before 404
        organization_id = acting_organization(request).organization_id
        characters = Character.objects.filter(
            organization_filter(request.user, organization_id), slug=kwargs["slug"]
        )
        if request.method == "POST":
            self.change = change_of(request, Source.RESTORE)
            characters = services.locked_for_write(
                characters_for_reading().filter(pk__in=characters)
            )
        else:
            characters = characters.only(
                "id", "owner_id", "organization_id", "slug", "created_at", "version"
            )
        self.character = characters.first()
        if self.character is None:
            raise NotFound()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CharacterVersion.objects.none()
        found = CharacterVersion.objects.filter(character=self.character).order_by("-number")
        if self.action == "list":
            return found.defer("snapshot", "secrets")
        return found

    def get_object(self):
        if int(self.kwargs["number"]) > MAX_NUMBER:  # past any version, and any column
            raise NotFound()
        return super().get_object()

    def get_serializer_class(self):
        return VersionDetailSerializer if self.action == "retrieve" else VersionSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "character": getattr(self, "character", None)}

    @extend_schema(
        summary="Compare two versions",
        description="Each path that differs, with its values before and after; a secret shows "
        'as "********", and only where it changed.',
        parameters=[NUMBER, TO],
        responses={200: DiffSerializer, 400: error_response(400)},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, *args, **kwargs):
        source = self.get_object()
        to = request.query_params.get("to", str(self.character.version))
        if not (to.isascii() and to.isdigit()):
            raise ValidationError({"to": ["Must be a version number."]})
        if len(to) > len(str(MAX_NUMBER)) or int(to) > MAX_NUMBER:  # past any version
            raise NotFound()
        target = get_object_or_404(self.get_queryset(), number=int(to))
        changes = history.masked_changes(
            history.version_configuration(source), history.version_configuration(target)
        )
        return Response({"from": source.number, "to": target.number, "changes": changes})

    @extend_schema(
        summary="Restore a version",
        description="The character becomes what the version was, as a new version (the slug "
        "never changes; a handoff target deleted since is left out).",
        request=None,
        parameters=[NUMBER, IF_MATCH, NOTE_PARAMETER],
        responses={
            (200, "application/json"): CharacterSerializer,
            409: error_response(409),
            412: error_response(412),
        },
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        version = self.get_object()
        evaluate_preconditions(request, versions.current_etag(self.character.pk))
        character = services.restore_version(self.character, version, self.change)
        character._prefetched_objects_cache = {}  # the handoff list may have changed
        body = CharacterSerializer(character, context=self.get_serializer_context()).data
        return Response(body, headers={"ETag": versions.current_etag(character.pk)})
