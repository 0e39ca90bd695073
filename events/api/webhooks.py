"""/api/webhooks/: the acting organization's webhook endpoints (another's id is a 404), their secret
rotation, a test event, the delivery log and redelivery."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.organizations import roles
from accounts.organizations.permissions import OrganizationRole
from events import services
from events.api.webhook_serializers import (
    DeliveryQuerySerializer,
    DeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from events.models import WebhookEndpoint
from events.scope import scope_of_request
from oshara.schema import error_response


def shown_once(endpoint):
    """The secret: no cache may keep a copy of the response."""
    response = Response(WebhookEndpointWithSecretSerializer(endpoint).data)
    response["Cache-Control"] = "no-store"
    return response


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    create=extend_schema(
        summary="Create a webhook endpoint",
        description="The response carries the signing secret; it is never shown again.",
        responses={201: WebhookEndpointWithSecretSerializer},
    ),
    retrieve=extend_schema(summary="Retrieve a webhook endpoint"),
    partial_update=extend_schema(summary="Change or turn on/off a webhook endpoint"),
    destroy=extend_schema(summary="Delete a webhook endpoint"),
)
@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The acting organization's endpoints: its owners and admins only."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAuthenticated, OrganizationRole]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "we_[0-9a-f]{28}"

    def organization_action(self, request):
        return roles.MANAGE

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema needs no organization
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(organization=scope_of_request(self.request))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(
            scope_of_request(request), request.user, **serializer.validated_data
        )
        response = shown_once(endpoint)
        response.status_code = status.HTTP_201_CREATED
        return response

    def perform_update(self, serializer):
        services.update_endpoint(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_endpoint(instance)

    @extend_schema(
        summary="Rotate the signing secret",
        description="The new secret is shown once; the old one keeps signing for 24 hours.",
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return shown_once(services.rotate_secret(self.get_object()))

    @extend_schema(summary="Send a test event", request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.send_test(self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="List the endpoint's deliveries, newest first",
        parameters=[DeliveryQuerySerializer],
        responses={200: DeliverySerializer(many=True), 400: error_response(400)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = self.get_object().deliveries.select_related("event")
        if "status" in query.validated_data:
            deliveries = deliveries.filter(status=query.validated_data["status"])
        page = deliveries.order_by("-created_at", "-id")[: query.validated_data["limit"]]
        return Response(DeliverySerializer(page, many=True).data)

    @extend_schema(summary="Send a delivery again", request=None, responses={202: None})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>del_[0-9a-f]{28})/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        delivery = get_object_or_404(self.get_object().deliveries, pk=delivery_id)
        services.redeliver(delivery)
        return Response(status=status.HTTP_202_ACCEPTED)
