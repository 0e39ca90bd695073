"""/api/agents/{slug}/form-responses/: managed storage for forms with `submit_url: null`.

POST is the widget's submission from the visitor's browser: no token, the widget's Origin
gate, throttled per client address and per call session. GET is the owner's read-back
(JWT or API key), a plain array paged like the character list.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from calls import selectors, services
from calls.api.form_response_serializers import FormResponseSerializer, FormSubmissionSerializer
from calls.api.widget_gate import WidgetOriginGateMixin
from calls.throttling import FormResponseIPThrottle, FormResponseSessionThrottle
from characters.api.pagination import PAGE_HEADERS, HeaderLimitOffsetPagination
from oshara.http.errors import TOO_LARGE
from oshara.http.json_input import StrictJSONParser
from oshara.schema import error_response

UNKNOWN = "No active character has this slug."
ORIGIN = OpenApiParameter(
    "Origin",
    str,
    OpenApiParameter.HEADER,
    description="The embedding page's origin: one of the character's `allowed_origins`.",
)
LIST_PARAMETERS = [
    OpenApiParameter("session_id", str, description="Only the responses of this call session."),
    OpenApiParameter("form_id", str, description="Only the responses to this form."),
    *PAGE_HEADERS,
]


class BodyTooLarge(APIException):
    status_code = 413
    default_detail = TOO_LARGE
    default_code = "too_large"


class FormResponsesView(WidgetOriginGateMixin, GenericAPIView):
    serializer_class = FormResponseSerializer
    pagination_class = HeaderLimitOffsetPagination
    parser_classes = [StrictJSONParser]

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "GET" else [AllowAny()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [FormResponseIPThrottle(), FormResponseSessionThrottle()]
        return [] if self.request.method == "OPTIONS" else super().get_throttles()

    def initial(self, request, *args, **kwargs):
        # Before the session throttle reads the body: a form never needs a large one.
        if request.method == "POST" and declared_length(request) > settings.FORM_RESPONSE_MAX_BYTES:
            raise BodyTooLarge
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        character = selectors.owned_character(self.request.user, self.kwargs["slug"])
        if character is None:
            raise NotFound("You have no character with this slug.")
        params = self.request.query_params
        return selectors.form_responses(
            character, session_id=params.get("session_id"), form_id=params.get("form_id")
        )

    @extend_schema(
        tags=["form responses"],
        summary="List a character's form responses",
        description="The owner's read-back of what visitors submitted to the character's "
        "managed-storage forms, newest first, as a plain array. With `limit` (and `offset`) "
        "the body stays an array; the total and page links travel in headers. Someone "
        "else's character is a 404.",
        parameters=LIST_PARAMETERS,
        responses={
            200: FormResponseSerializer(many=True),
            400: error_response(400, "A query parameter holds a NUL character."),
            404: error_response(404, "You have no character with this slug."),
        },
    )
    def get(self, request, slug):
        responses = self.get_queryset()
        page = self.paginate_queryset(responses)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(responses, many=True).data)

    @extend_schema(
        tags=["form responses"],
        summary="Submit a form to managed storage (the widget)",
        description="For a form with `submit_url: null`. No token: the `Origin` header must "
        "be one of the character's `allowed_origins` (or the request carries the owner's "
        "credentials). `values` is checked against the form's own fields; each refusal is "
        "a 400 naming `values.<field>`.",
        request=FormSubmissionSerializer,
        parameters=[ORIGIN],
        responses={
            201: FormResponseSerializer,
            403: error_response(403, "The Origin is missing or not allowed for this character."),
            404: error_response(404, UNKNOWN),
            413: error_response(413, "The body is over FORM_RESPONSE_MAX_BYTES."),
        },
    )
    def post(self, request, slug):
        character = selectors.form_response_character(slug)
        if character is None:
            raise NotFound(UNKNOWN)
        self.check_caller(request, character)
        submission = FormSubmissionSerializer(data=request.data, context={"character": character})
        submission.is_valid(raise_exception=True)
        data = submission.validated_data
        response = services.record_form_response(
            character,
            data["session_id"],
            data["form_id"],
            data["values"],
            origin=request.headers.get("Origin"),
        )
        return Response(FormResponseSerializer(response).data, status=201)

    def named_character_origins(self):
        character = selectors.startable_character(self.kwargs["slug"])
        return character.allowed_origins if character else None

    @extend_schema(exclude=True)
    def options(self, request, slug):
        """CORS preflight, gated like the appearance fetch: the slug is in the path."""
        character = selectors.form_response_character(slug)
        if character is None:
            raise NotFound(UNKNOWN)
        self.check_caller(request, character)
        return self.preflight(request)


def declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
