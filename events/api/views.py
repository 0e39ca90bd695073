"""GET /api/events/: the acting organization's audit log, newest first, a cursor in Link."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.organizations import roles
from accounts.organizations.permissions import OrganizationRole
from events import selectors
from events.api.serializers import EventQuerySerializer, EventSerializer
from events.scope import scope_of_request
from oshara.schema import error_response


class EventListView(GenericAPIView):
    """The acting organization's log: its owners and admins only."""

    serializer_class = EventSerializer
    permission_classes = [IsAuthenticated, OrganizationRole]

    def organization_action(self, request):
        return roles.MANAGE

    @extend_schema(
        tags=["events"],
        summary="List events (the audit log)",
        parameters=[EventQuerySerializer],
        responses={200: EventSerializer(many=True), 400: error_response(400)},
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        limit = filters.pop("limit")
        cursor = filters.pop("cursor", None)
        try:
            position = selectors.decode_cursor(cursor) if cursor else None
        except selectors.BadCursor:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
        events, more = selectors.events_page(
            scope_of_request(request), limit=limit, cursor=position, **filters
        )
        response = Response(EventSerializer(events, many=True).data)
        if more:
            params = request.query_params.copy()
            params["cursor"] = selectors.encode_cursor(events[-1])
            url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
            response["Link"] = f'<{url}>; rel="next"'
        return response
