"""The /api/ai-characters/ endpoints."""

from django.db.models import Q
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from characters.authentication import deferred_for_reads, owner_filter, verify
from characters.models import CharacterType
from characters.pagination import HeaderLimitOffsetPagination
from characters.queries import characters_for_reading
from characters.serializers import CharacterSerializer


class CharacterViewSet(viewsets.ModelViewSet):
    """The caller's own characters, addressed by slug."""

    serializer_class = CharacterSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    pagination_class = HeaderLimitOffsetPagination

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        drf_request.authenticators = deferred_for_reads(request, drf_request.authenticators)
        return drf_request

    def get_queryset(self):
        # Relations arrive in 2 queries whatever the number of characters (see queries.py);
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
        if search := params.get("search", "").strip():
            queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
        return queryset

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
