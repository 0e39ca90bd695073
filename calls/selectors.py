"""Reads: the public character a call starts on, sessions by audience, history totals."""

from django.conf import settings
from django.db.models import Count, Sum

from calls.models import CallSession
from calls.services import USAGE_FIELDS
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
