"""GET /api/events/: the acting organization's audit log, newest first, a cursor in Link.

A JWT's request is read like a character (characters/api/authentication.py): the token is
checked without loading its user, and the page's one statement reads the log only if that
user is an active member of the acting organization with a role that reads it
(selectors.Reader). When it finds nothing, the caller is checked the usual way (a 401, 404
or 403, as any other endpoint gives) and the page is read again by its scope: it may just
be empty. Either way a log is read only by those the role table lets read it, and a page
costs one statement, not three (the user, the membership, the page) in a transaction.
"""

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.organizations import roles
from accounts.organizations.acting import requested_slug
from accounts.organizations.permissions import OrganizationRole, require
from characters.api.authentication import authenticators_for, is_token_user, verify
from events import selectors
from events.api.serializers import EventQuerySerializer, EventSerializer
from events.scope import scope_of_request
from oshara.http.transactions import Untransacted
from oshara.schema import error_response

# The filters' serializer, built once per process: building its fields (DRF copies the
# declared ones for each instance) was a twentieth of a page's time, and run_validation()
# keeps nothing on the serializer.
QUERY = EventQuerySerializer()


class EventRenderer(ORJSONRenderer):
    """JSON by orjson: a page's data is embedded as stored (selectors.Entry), and its times
    written in C as DRF writes them in this project's zone, UTC ("Z"). Both were a third of
    a page's time in DRF's renderer and fields (bench/README.md)."""

    options = ORJSONRenderer.options | orjson.OPT_UTC_Z


class EventListView(Untransacted, GenericAPIView):
    """The acting organization's log: its owners and admins only."""

    serializer_class = EventSerializer
    permission_classes = [IsAuthenticated, OrganizationRole]
    renderer_classes = [EventRenderer]

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        if getattr(self, "swagger_fake_view", False):  # the schema shows SimpleJWT's scheme
            return authenticators
        return authenticators_for(self.request, authenticators)

    def organization_action(self, request):
        # A token user's role is proven by the page's statement, or checked when it finds
        # nothing (get()); an API key's, and a loaded user's, by OrganizationRole as usual.
        return None if is_token_user(request.user) else roles.MANAGE

    def reader(self, request):
        if is_token_user(request.user):
            return selectors.Reader(request.user.id, requested_slug(request))
        return scope_of_request(request)

    @extend_schema(
        tags=["events"],
        summary="List events (the audit log)",
        parameters=[EventQuerySerializer],
        responses={200: EventSerializer(many=True), 400: error_response(400)},
    )
    def get(self, request):
        filters = QUERY.run_validation(request.query_params)
        limit = filters.pop("limit")
        cursor = filters.pop("cursor", None)
        try:
            filters["cursor"] = selectors.decode_cursor(cursor) if cursor else None
        except selectors.BadCursor:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
        events, more = selectors.events_page(self.reader(request), limit=limit, **filters)
        if not events and is_token_user(request.user):
            # Found nothing: the caller is checked as anywhere else; the log may be empty.
            verify(request)
            require(request, roles.MANAGE)
            events, more = selectors.events_page(scope_of_request(request), limit=limit, **filters)
        response = Response(EventSerializer(events, many=True).data)
        if more:
            params = request.query_params.copy()
            params["cursor"] = selectors.encode_cursor(events[-1])
            url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
            response["Link"] = f'<{url}>; rel="next"'
        return response
