"""The /api/ai-characters/ endpoints."""

from collections.abc import Mapping
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.organizations import roles
from accounts.organizations.acting import acting_organization
from accounts.organizations.permissions import OrganizationRole
from characters import duplication, services
from characters.api import read_cache, versions
from characters.api.authentication import authenticators_for, organization_filter, verify
from characters.api.authorship import NOTE_PARAMETER, change_of
from characters.api.concurrency import (
    UNLOCKED,
    LockNeeded,
    integrity_error,
    one_transaction_per_write,
)
from characters.api.duplicates import DuplicateSerializer
from characters.api.pagination import PAGE_HEADERS, HeaderLimitOffsetPagination
from characters.api.serializers import CharacterSerializer, PublishSerializer
from characters.history import SYSTEM
from characters.models import CharacterType, IdempotencyKey, Publishing
from characters.selectors import characters_for_reading, characters_for_writing
from characters.validators import SLUG_PATTERN, default_session_overrides
from oshara.http.conditional import Conflict, evaluate_preconditions
from oshara.http.idempotency import IdempotentCreateMixin
from oshara.schema import error_response

# The methods that change a character found by its slug (POST: publish; duplicate, which
# holds its source still while copying it).
WRITES = ("PUT", "PATCH", "DELETE", "POST")
LIST_PARAMETERS = [
    OpenApiParameter(
        "character_type",
        str,
        enum=["", *CharacterType.values],
        description="Only characters of this type (empty: those without a type).",
    ),
    OpenApiParameter("search", str, description="Case-insensitive match on name or slug."),
    *PAGE_HEADERS,
]


def changes_publishing(request, character):
    """Whether the write would leave another `session_overrides` or `publishing` than the
    character has (each takes an admin): a PUT that omits one resets it to its default."""
    data = request.data
    if not isinstance(data, Mapping):
        return False  # not an object: the serializer's 400
    return changes_session_overrides(request, data, character) or changes_field(
        request, data, "publishing", character.publishing, Publishing.AUTO
    )


def changes_field(request, data, name, current, default):
    if name not in data:
        return request.method == "PUT" and current != default
    return data[name] != current


def changes_session_overrides(request, data, character):
    if "session_overrides" not in data:
        if request.method != "PUT":
            return False
        sent = default_session_overrides()
    else:
        sent = (
            data.getlist("session_overrides")
            if hasattr(data, "getlist")
            else data.get("session_overrides")
        )
    if not isinstance(sent, list) or not all(isinstance(key, str) for key in sent):
        return True
    return sorted(set(sent)) != sorted(set(character.session_overrides))


@extend_schema_view(
    list=extend_schema(
        summary="List characters",
        description="The caller's characters, newest first, as a plain array. With `limit` "
        "(and `offset`) the body stays an array; the total and page links travel in headers.",
        parameters=LIST_PARAMETERS,
        responses={200: CharacterSerializer(many=True), 400: error_response(400)},
    ),
    create=extend_schema(summary="Create a character", parameters=[NOTE_PARAMETER]),
    retrieve=extend_schema(summary="Retrieve a character"),
    update=extend_schema(
        summary="Replace a character",
        description="Omitted fields return to their defaults, except `llm_api_key` and the "
        "uploaded files, which stay unless sent (`null` clears them). The slug cannot change.",
        parameters=[NOTE_PARAMETER],
    ),
    partial_update=extend_schema(
        summary="Update some fields of a character", parameters=[NOTE_PARAMETER]
    ),
    destroy=extend_schema(summary="Delete a character"),
)
@extend_schema(tags=["characters"])
class CharacterViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """The caller's own characters, addressed by slug: one transaction and a row lock per
    write, ETags naming the version (If-Match checked under the lock), Idempotency-Key on
    create and duplicate (the mixin wraps create()), and reads answered from the read cache."""

    serializer_class = CharacterSerializer
    permission_classes = [IsAuthenticated, OrganizationRole]
    idempotency_key_model = IdempotencyKey
    idempotent_actions = ("create", "duplicate")
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    pagination_class = HeaderLimitOffsetPagination
    # ETag on reads and writes, If-None-Match/If-Match honoured (the schema documents them).
    conditional_requests = True
    # The version of the character a write leaves, sent as the response's ETag.
    etag = None
    # Who makes this request's change, and why (X-Change-Note): set before any write.
    change = SYSTEM

    @classmethod
    def as_view(cls, *args, **kwargs):
        return one_transaction_per_write(super().as_view(*args, **kwargs))

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        if getattr(self, "swagger_fake_view", False):  # the schema shows SimpleJWT's scheme
            return authenticators
        # Reads check the token's user in their own query (authentication.py).
        return authenticators_for(self.request, authenticators)

    # The organization a read's statement (read_cache.py) found the caller a member of: its
    # build needs no second look-up.
    proven_organization_id = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH"):
            self.change = change_of(request)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "change": self.change,
            "optimistic": self.unlocked,
        }

    @property
    def unlocked(self):
        """Whether this write runs with no lock (characters/api/concurrency.py)."""
        return getattr(self.request, UNLOCKED, False)

    def get_queryset(self):
        organization_id = (
            self.proven_organization_id or acting_organization(self.request).organization_id
        )
        # A write reads it with its relations in one statement; reads prefetch them (2
        # queries whatever the number of characters, see selectors.py).
        writing = self.request.method in WRITES
        queryset = (characters_for_writing() if writing else characters_for_reading()).filter(
            organization_filter(self.request.user, organization_id)
        )
        queryset = queryset.on_empty(lambda: verify(self.request))
        if writing and not self.unlocked:
            return services.locked_for_write(queryset, delete=self.request.method == "DELETE")
        if self.action in ("list", "retrieve"):
            queryset = queryset.without_api_key()
        if self.action == "list":
            queryset = self.filter_list(queryset)
        return queryset

    def filter_list(self, queryset):
        params = self.request.query_params
        if "character_type" in params:
            character_type = params["character_type"]
            if character_type not in CharacterType.values and character_type != "":
                choices = ", ".join(CharacterType.values)
                raise ValidationError(
                    {"character_type": [f'"{character_type}" is not one of: {choices}.']}
                )
            queryset = queryset.filter(character_type=character_type)
        if "\x00" in params.get("search", ""):
            raise ValidationError({"search": ["Null characters are not allowed."]})
        if search := params.get("search", "").strip():
            queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
        return queryset

    # Publishing a version takes an admin (DESIGN.md's role table); other writes an editor.
    organization_actions = {"publish": roles.PUBLISH, "duplicate": roles.EDIT}

    def organization_object_action(self, request, character):
        """Changing who may override what at session start, or how versions go live, takes
        an admin (DESIGN.md)."""
        if request.method in ("PUT", "PATCH") and changes_publishing(request, character):
            return roles.PUBLISH
        return None

    def get_object(self):
        # Fetched (and, for a write, locked) once per request, then reused by DRF's actions;
        # a write's preconditions are checked against the version it read (the locked row's,
        # or the one an optimistic write expects to find).
        if "object" not in self.__dict__:
            self.object = super().get_object()
            if self.request.method in WRITES:
                evaluate_preconditions(self.request, versions.etag_of(self.object))
        return self.object

    # The one action override: reads answered from the read cache (read_cache.py), which
    # falls back to DRF's own list and retrieve.

    def list(self, request, *args, **kwargs):
        return read_cache.list_page(self, request, partial(super().list, request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        build = partial(super().retrieve, request, *args, **kwargs)
        return read_cache.retrieve(self, request, build)

    def perform_create(self, serializer):
        try:
            with transaction.atomic():  # a savepoint, so the cause can still be looked up
                organization_id = acting_organization(self.request).organization_id
                serializer.save(owner=self.request.user, organization_id=organization_id)
        except IntegrityError as exc:
            raise integrity_error(self.request) from exc
        self.etag = versions.current_etag(serializer.instance.pk)

    def get_success_headers(self, data):
        # create()'s headers: the ETag is in the response the Idempotency-Key stores.
        return {"ETag": self.etag}

    def update(self, request, *args, **kwargs):
        """DRF's update, except that the character keeps its prefetched handoff links and
        documents: the services keep the list as they save it (a write does not change the
        documents), so the response is rendered with no further query."""
        data = request.data
        if self.unlocked and isinstance(data, Mapping) and "handoff_targets" in data:
            # Its targets are share-locked until the links are written (lock_for_reference).
            raise LockNeeded()
        instance = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(serializer.data)

    def perform_update(self, serializer):
        try:
            serializer.save()
        except IntegrityError as exc:
            raise Conflict() from exc
        self.etag = versions.etag_of(serializer.instance)

    @extend_schema(
        summary="Publish a version",
        description='Make a version of a "manual" character the one the public meets (the '
        "widget, session start, form submissions, calls); an older one rolls back. 409 for "
        'an "auto" character, whose every version is live at once.',
        request=PublishSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="Only if the character's ETag still matches (else 412).",
            )
        ],
        responses={200: CharacterSerializer, 409: error_response(409), 412: error_response(412)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        character = self.get_object()
        body = PublishSerializer(data=request.data, context={"character": character})
        body.is_valid(raise_exception=True)
        number = body.validated_data.get("version", character.version)
        try:
            services.publish(character, number, body.validated_data.get("note", ""))
        except services.AutoPublishing:
            raise Conflict(
                'This character\'s publishing is "auto": every version is live at once. Set '
                '"publishing": "manual" to publish versions yourself.'
            ) from None
        self.etag = versions.current_etag(character.pk)
        return Response(self.get_serializer(character).data)

    @extend_schema(
        summary="Duplicate a character",
        description="A new character in the acting organization, made of the newest version "
        "of this one (or the given `version`): its own copies of the files, the secrets "
        "encrypted anew, the handoff targets of that version, and the documents with their "
        'chunks and embeddings (searchable at once). Its version 1 has `source: "duplicate"`.',
        request=DuplicateSerializer,
        parameters=[NOTE_PARAMETER],
        responses={201: CharacterSerializer, 400: error_response(400)},
    )
    @action(detail=True, methods=["post"])
    def duplicate(self, request, *args, **kwargs):
        return self.idempotent(request, partial(self.make_duplicate, request))

    def make_duplicate(self, request):
        source = self.get_object()
        body = DuplicateSerializer(data=request.data, context={"character": source})
        body.is_valid(raise_exception=True)
        try:
            with transaction.atomic():  # a savepoint, so the cause can still be looked up
                copy = duplication.duplicate_character(
                    source, owner=request.user, change=self.change, **body.validated_data
                )
        except IntegrityError as exc:
            raise integrity_error(request) from exc
        copy = characters_for_reading().get(pk=copy.pk)
        self.etag = versions.current_etag(copy.pk)
        data = self.get_serializer(copy).data
        return Response(data, status=201, headers={"ETag": self.etag})

    def perform_destroy(self, instance):
        services.character_delete(instance)

    def finalize_response(self, request, response, *args, **kwargs):
        if self.etag is not None and 200 <= response.status_code < 300 and "ETag" not in response:
            response["ETag"] = self.etag
        return super().finalize_response(request, response, *args, **kwargs)
