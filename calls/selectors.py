"""Reads: the public character a call starts on, sessions by audience, history totals, form
responses."""

import re

from django.conf import settings
from django.db.models import Count, Sum

from calls.models import SESSION_ID_PATTERN, CallSession, FormResponse
from calls.services import USAGE_FIELDS
from characters.models import Character
from characters.selectors import public_characters

SESSION_START_FIELDS = (
    "id",
    "slug",
    "owner_id",
    "allowed_origins",
    "system_prompt",
    "greeting",
    "is_active",
)


def startable_character(slug):
    """The active character with this slug (only what session start needs), or None."""
    return public_characters().only(*SESSION_START_FIELDS).filter(slug=slug).first()


FORM_RESPONSE_FIELDS = ("id", "slug", "owner_id", "allowed_origins", "widget_appearance")


def form_response_character(slug):
    """The active character a visitor's form is submitted to (what the check needs), or None."""
    return public_characters().only(*FORM_RESPONSE_FIELDS).filter(slug=slug).first()


def session_of(character, session_id):
    """The session with this id if it is one of `character`'s, else None."""
    if not isinstance(session_id, str) or not re.fullmatch(SESSION_ID_PATTERN, session_id):
        return None
    return CallSession.objects.only("id").filter(pk=session_id, character=character).first()


def owned_character(user, slug):
    """The caller's own character with this slug (active or not), or None."""
    return Character.objects.only("id").filter(slug=slug, owner_id=user.pk).first()


def form_responses(character, *, session_id=None, form_id=None):
    """The character's form responses, newest first, optionally of one session or form."""
    responses = FormResponse.objects.filter(character=character)
    if session_id:
        responses = responses.filter(session_key=session_id)
    if form_id:
        responses = responses.filter(form_id=form_id)
    return responses.order_by("-created_at", "-id")


def session_for_worker(session_id):
    return CallSession.objects.select_related("character").filter(pk=session_id).first()


def sessions_visible_to(user):
    """Staff see every session; an owner, the sessions of their characters."""
    sessions = CallSession.objects.all()
    return sessions if user.is_staff else sessions.filter(owner=user)


def usage_totals(sessions):
    """The count and the sum of every usage field, in one aggregate query."""
    totals = sessions.aggregate(
        session_count=Count("pk"), **{field: Sum(field, default=0) for field in USAGE_FIELDS}
    )
    totals["estimated_cost_usd"] = estimated_cost(totals)
    return totals


def estimated_cost(usage):
    """US dollars at the configured unit prices (all 0 unless set), to the micro-dollar."""
    prices = settings.USAGE_PRICES_USD
    cost = (
        usage["session_duration_seconds"] / 60 * prices["per_session_minute"]
        + usage["llm_input_tokens"] / 1e6 * prices["per_million_llm_input_tokens"]
        + usage["llm_output_tokens"] / 1e6 * prices["per_million_llm_output_tokens"]
        + usage["stt_audio_seconds"] / 60 * prices["per_stt_minute"]
        + usage["tts_characters"] / 1e6 * prices["per_million_tts_characters"]
    )
    return round(cost, 6)
