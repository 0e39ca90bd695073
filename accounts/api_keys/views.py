"""/api/auth/api-keys/: create (the full key, once), list, read, rename or (de)activate, delete."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api_keys import selectors, services
from accounts.api_keys.permissions import NotWithApiKey
from accounts.api_keys.serializers import ApiKeyCreatedSerializer, ApiKeySerializer
from accounts.organizations import roles
from accounts.organizations.acting import acting_organization
from accounts.organizations.permissions import OrganizationRole
from oshara.schema import error_response

# A key is recognised (and refused with a 403) rather than ignored, but only a JWT is
# documented as accepted here.
JWT_ONLY = {"auth": [{"jwtAuth": []}]}
FORBIDDEN = error_response(403, "Authenticated with an API key: managing keys takes a JWT.")


@extend_schema_view(
    list=extend_schema(
        summary="List API keys",
        responses={200: ApiKeySerializer(many=True), 403: FORBIDDEN},
    ),
    create=extend_schema(
        summary="Create an API key",
        description="The response carries the full key; it is never shown again.",
        responses={201: ApiKeyCreatedSerializer, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary="Retrieve an API key", responses={200: ApiKeySerializer, 403: FORBIDDEN}
    ),
    partial_update=extend_schema(
        summary="Rename, deactivate or reactivate an API key",
        responses={200: ApiKeySerializer, 403: FORBIDDEN},
    ),
    destroy=extend_schema(summary="Delete an API key", responses={204: None, 403: FORBIDDEN}),
)
@extend_schema(tags=["auth"], **JWT_ONLY)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The acting organization's API keys (owners and admins); another organization's id is
    a 404."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated, NotWithApiKey, OrganizationRole]
    organization_actions = dict.fromkeys(
        ("list", "retrieve", "create", "partial_update", "destroy", "metadata"), roles.MANAGE
    )
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.keys_of(acting_organization(self.request).organization_id)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):  # the schema needs no organization
            return context
        return {**context, "acting": acting_organization(self.request)}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        acting = acting_organization(request)
        fields = {"role": acting.role, **serializer.validated_data}
        api_key, full_key = services.create_key(
            request.user, organization_id=acting.organization_id, **fields
        )
        created = ApiKeyCreatedSerializer(api_key, context={"full_key": full_key})
        response = Response(created.data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the full key: no cache may keep a copy
        return response

    def perform_update(self, serializer):
        services.update_key(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_key(instance)
