"""The owner's call history: GET /api/billing/usage/ and GET /api/billing/sessions/{id}/.

As on the platform, both wrap every answer, errors included, in
{"success", "message", "data", "errors"}.
"""

import re
from datetime import UTC, datetime, time, timedelta

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
from calls.models import SESSION_ID_PATTERN
from calls.selectors import sessions_visible_to, usage_totals

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
    start = serializers.CharField(required=False, max_length=40)
    end = serializers.CharField(required=False, max_length=40)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

    def validate_character_slug(self, value):
        if "\x00" in value:
            raise ValidationError("Null characters are not allowed.")
        return value

    def validate_start(self, value):
        return moment(value, end=False)

    def validate_end(self, value):
        return moment(value, end=True)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise ValidationError({"end": ["Must be after start."]})
        return attrs


def moment(value, *, end):
    """An ISO date (a whole day: `end` takes the day after) or date-time, made aware (UTC)."""
    try:
        day = parse_date(value)
        if day is not None:
            parsed = datetime.combine(day + timedelta(days=1) if end else day, time.min)
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
    description="The caller's sessions (staff: everyone's), newest first. `end` is exclusive "
    "for a date-time; a date covers its whole day.",
    parameters=[
        OpenApiParameter("character_slug", str),
        OpenApiParameter("start", str, description="ISO 8601 date or date-time (inclusive)."),
        OpenApiParameter("end", str, description="ISO 8601 date or date-time."),
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
        sessions = sessions_visible_to(request.user)
        if "character_slug" in params:
            sessions = sessions.filter(character_slug=params["character_slug"])
        if "start" in params:
            sessions = sessions.filter(started_at__gte=params["start"])
        if "end" in params:
            sessions = sessions.filter(started_at__lt=params["end"])
        totals = usage_totals(sessions)
        size, page = params["page_size"], params["page"]
        offset = (page - 1) * size
        rows = sessions.defer("transcript", "mcp_headers", "overrides", "metadata")
        rows = rows[offset : offset + size] if offset < totals["session_count"] else []
        return Response(
            {
                "totals": totals,
                "sessions": SessionSummarySerializer(rows, many=True).data,
                "page": page,
                "page_size": size,
                "total_pages": -(-totals["session_count"] // size),
            }
        )


@extend_schema(
    tags=["history"],
    summary="One session with its transcript",
    responses={
        200: enveloped("SessionDetailEnvelope", SessionDetailSerializer()),
        **ENVELOPE_ERRORS,
    },
)
class SessionDetailView(EnvelopeMixin, APIView):
    def get(self, request, session_id):
        session = None
        if re.fullmatch(SESSION_ID_PATTERN, session_id):
            session = sessions_visible_to(request.user).filter(pk=session_id).first()
        if session is None:
            raise NotFound("No session of yours has this id.")
        return Response(SessionDetailSerializer(session).data)
