"""The /api/ai-characters/ endpoints."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from characters import services
from characters.api.authentication import deferred_for_reads, owner_filter, verify
from characters.api.concurrency import ConcurrencyMixin
from characters.api.pagination import HeaderLimitOffsetPagination
from characters.api.read_cache import ReadCacheMixin
from characters.api.serializers import CharacterSerializer
from characters.models import CharacterType, IdempotencyKey
from characters.selectors import characters_for_reading
from characters.validators import SLUG_PATTERN
from oshara.http.idempotency import IdempotentCreateMixin
from oshara.schema import error_response

LIST_PARAMETERS = [
    OpenApiParameter(
        "character_type",
        str,
        enum=["", *CharacterType.values],
        description="Only characters of this type (empty: those without a type).",
    ),
    OpenApiParameter("search", str, description="Case-insensitive match on name or slug."),
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="Total number of matching characters; sent when `limit` is given.",
    ),
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='Links to the next and previous pages (`rel="next"`, `rel="prev"`), '
        "when `limit` is given and there are more.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="List characters",
        description="The caller's characters, newest first, as a plain array. With `limit` "
        "(and `offset`) the body stays an array; the total and page links travel in headers.",
        parameters=LIST_PARAMETERS,
        responses={200: CharacterSerializer(many=True), 400: error_response(400)},
    ),
    create=extend_schema(summary="Create a character"),
    retrieve=extend_schema(summary="Retrieve a character"),
    update=extend_schema(
        summary="Replace a character",
        description="Omitted fields return to their defaults, except `llm_api_key` and the "
        "uploaded files, which stay unless sent (`null` clears them). The slug cannot change.",
    ),
    partial_update=extend_schema(summary="Update some fields of a character"),
    destroy=extend_schema(summary="Delete a character"),
)
@extend_schema(tags=["characters"])
class CharacterViewSet(
    IdempotentCreateMixin, ReadCacheMixin, ConcurrencyMixin, viewsets.ModelViewSet
):
    """The caller's own characters, addressed by slug (ETags, Idempotency-Key and cached reads:
    see the mixins)."""

    serializer_class = CharacterSerializer
    idempotency_key_model = IdempotencyKey
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    pagination_class = HeaderLimitOffsetPagination

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        drf_request.authenticators = deferred_for_reads(request, drf_request.authenticators)
        return drf_request

    def get_queryset(self):
        # Relations arrive in 2 queries whatever the number of characters (see selectors.py);
        # on reads the owner check doubles as the token user's check (see authentication.py).
        user = self.request.user
        queryset = characters_for_reading().filter(owner_filter(user))
        queryset = queryset.on_empty(lambda: verify(user))
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

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def perform_destroy(self, instance):
        services.character_delete(instance)
