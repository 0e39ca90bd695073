"""Reads: the public character a call starts on, sessions by audience, history totals, form
responses."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Sum

from calls.models import SESSION_ID_PATTERN, CallSession, FormResponse
from calls.services import USAGE_FIELDS
from characters.models import Character
from characters.selectors import public_character
from characters.validators import SLUG_PATTERN
from characters.widget.cache import PublicProjection

SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class StartableCharacter:
    """What session start reads of a character, from the widget cache (no SQL on a hit)."""

    id: int
    slug: str
    owner_id: int
    system_prompt: str
    greeting: str
    session_overrides: frozenset
    allowed_origins: frozenset


def startable_fields(character):
    return {
        "id": character.pk,
        "slug": character.slug,
        "owner_id": character.owner_id,
        "system_prompt": character.system_prompt,
        "greeting": character.greeting,
        "session_overrides": frozenset(character.session_overrides),
    }


# Invalidated with the appearance (one token per slug): an edit shows on the next start.
SESSION_START = PublicProjection(
    "session-start",
    ("id", "slug", "owner_id", "system_prompt", "greeting", "session_overrides"),
    startable_fields,
    version=2,
)


def startable_keys(body):
    """The cache keys of the character a session-start body names, to be read in a round
    trip the request makes anyway (the throttle's); none for a body that names no slug."""
    slug = body.get("agent") if isinstance(body, dict) else None
    if isinstance(slug, str) and SLUG.fullmatch(slug):
        return SESSION_START.keys(slug)
    return ()


def startable_character(slug, found=None):
    """The active character with this slug as session start needs it, or None. `found`: the
    cache's answer for SESSION_START.keys(slug) when the caller already read them."""
    hit = SESSION_START.lookup(slug, found)
    if hit is None:
        return None
    allowed_origins, fields = hit
    return StartableCharacter(allowed_origins=allowed_origins, **fields)


FORM_RESPONSE_FIELDS = ("id", "slug", "owner_id", "allowed_origins", "widget_appearance")


def form_response_character(slug):
    """The active character a visitor's form is submitted to (what the check needs, of its
    published version), or None."""
    return public_character(slug, FORM_RESPONSE_FIELDS)


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
