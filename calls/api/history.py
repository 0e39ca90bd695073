"""The owner's call history: GET /api/billing/usage/ and GET /api/billing/sessions/{id}/.

As on the platform, both wrap every answer, errors included, in
{"success", "message", "data", "errors"}.
"""

from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.api.history_serializers import (
    ENVELOPE_ERRORS,
    SessionDetailSerializer,
    SessionSummarySerializer,
    UsageSerializer,
    enveloped,
)
from calls.selectors import history_sessions, session_by_id, usage_totals

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000


class EnvelopeMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and not getattr(response, "enveloped", False):
            ok = response.status_code < 400
            data = response.data
            response.data = {
                "success": ok,
                "message": "OK" if ok else error_message(data),
                "data": data if ok else None,
                "errors": None if ok else data,
            }
        return super().finalize_response(request, response, *args, **kwargs)


def error_message(data):
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return data["detail"]
    return "Invalid request."


class QuerySerializer(serializers.Serializer):
    character_slug = serializers.CharField(required=False, max_length=64)
    tenant_id = serializers.CharField(required=False, max_length=64)
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    start = serializers.CharField(required=False, max_length=40)
    end = serializers.CharField(required=False, max_length=40)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

    def validate_character_slug(self, value):
        return no_nul(value)

    def validate_tenant_id(self, value):
        return no_nul(value)

    def validate_start(self, value):
        return moment(value, end=False)

    def validate_end(self, value):
        return moment(value, end=True)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise ValidationError({"end": ["Must not be before start."]})
        return attrs


def no_nul(value):
    if "\x00" in value:
        raise ValidationError("Null characters are not allowed.")
    return value


def moment(value, *, end):
    """An ISO date-time, or an ISO date covering its whole day (as `end`, its last
    microsecond: both bounds are inclusive), made aware (UTC when it names no zone)."""
    try:
        day = parse_date(value)
        if day is not None:
            parsed = datetime.combine(day, time.max if end else time.min)
        else:
            parsed = parse_datetime(value)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise ValidationError("Enter an ISO 8601 date (2026-01-31) or date-time.")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


@extend_schema(
    tags=["history"],
    summary="Usage totals and a page of session summaries",
    description="The caller's sessions (staff: everyone's), newest first, in the platform's "
    "shape: the totals, then `sessions` `{data, page, page_size, total_pages, total}`. "
    "`start` and `end` are inclusive bounds on `created_at`; a date covers its whole day.",
    parameters=[
        OpenApiParameter("character_slug", str),
        OpenApiParameter(
            "tenant_id",
            str,
            description="The owner's id as a string (a session's `tenant_id`); any other "
            "value matches no session.",
        ),
        OpenApiParameter(
            "version",
            int,
            description="Only sessions that ran this version of their character.",
        ),
        OpenApiParameter("start", str, description="ISO 8601 date or date-time (inclusive)."),
        OpenApiParameter("end", str, description="ISO 8601 date or date-time (inclusive)."),
        OpenApiParameter("page", int, description="From 1."),
        OpenApiParameter("page_size", int, description=f"Default 50, at most {MAX_PAGE_SIZE}."),
    ],
    responses={200: enveloped("UsageEnvelope", UsageSerializer()), **ENVELOPE_ERRORS},
)
class UsageView(EnvelopeMixin, APIView):
    def get(self, request):
        query = QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        size, page = params.pop("page_size"), params.pop("page")
        params["tenant"] = params.pop("tenant_id", None)
        sessions = history_sessions(request.user, **params)
        totals = usage_totals(sessions)
        offset = (page - 1) * size
        rows = sessions.defer("transcript", "mcp_headers", "overrides")
        rows = rows[offset : offset + size] if offset < totals["total_sessions"] else []
        return Response(
            {
                **totals,
                "sessions": {
                    "data": SessionSummarySerializer(rows, many=True).data,
                    "page": page,
                    "page_size": size,
                    "total_pages": -(-totals["total_sessions"] // size),
                    "total": totals["total_sessions"],
                },
            }
        )


@extend_schema(
    tags=["history"],
    summary="One session with its transcript",
    description="By its `session_id` (`sess_…`) or its integer `id`.",
    responses={
        200: enveloped("SessionDetailEnvelope", SessionDetailSerializer()),
        **ENVELOPE_ERRORS,
    },
)
class SessionDetailView(EnvelopeMixin, APIView):
    def get(self, request, session_id):
        session = session_by_id(request.user, session_id)
        if session is None:
            raise NotFound("No session of yours has this id.")
        return Response(SessionDetailSerializer(session).data)
