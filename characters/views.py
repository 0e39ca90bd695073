"""The /api/ai-characters/ endpoints."""

from django.db.models import Prefetch, Q
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from characters.concurrency import ConcurrencyMixin
from characters.idempotency import IdempotentCreateMixin
from characters.models import Character, CharacterType, HandoffTarget
from characters.pagination import HeaderLimitOffsetPagination
from characters.serializers import CharacterSerializer


class CharacterViewSet(IdempotentCreateMixin, ConcurrencyMixin, viewsets.ModelViewSet):
    """The caller's own characters, addressed by slug (ETags and Idempotency-Key: see mixins)."""

    serializer_class = CharacterSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    pagination_class = HeaderLimitOffsetPagination

    def get_queryset(self):
        queryset = Character.objects.filter(owner=self.request.user).prefetch_related(
            Prefetch(
                "handoff_links",
                queryset=HandoffTarget.objects.select_related("target").only(
                    "source_id", "position", "target__slug", "target__name"
                ),
            ),
            "documents",
        )
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
