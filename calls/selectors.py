"""Reads: the public character a call starts on, sessions by audience, history totals, form
responses."""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Sum

from calls.models import SESSION_ID_PATTERN, CallSession, FormResponse
from calls.services import USAGE_FIELDS
from characters.models import Character, CharacterVersion
from characters.selectors import as_of_version, public_character
from characters.validators import SLUG_PATTERN
from characters.widget.cache import PublicProjection

SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class StartableCharacter:
    """What session start reads of a character, from the widget cache (no SQL on a hit)."""

    id: int
    slug: str
    owner_id: int
    version: int
    system_prompt: str
    greeting: str
    session_overrides: frozenset
    allowed_origins: frozenset


def startable_fields(character):
    return {
        "id": character.pk,
        "slug": character.slug,
        "owner_id": character.owner_id,
        "version": character.version,
        "system_prompt": character.system_prompt,
        "greeting": character.greeting,
        "session_overrides": frozenset(character.session_overrides),
    }


# Invalidated with the appearance (one token per slug): an edit shows on the next start.
SESSION_START = PublicProjection(
    "session-start",
    ("id", "slug", "owner_id", "version", "system_prompt", "greeting", "session_overrides"),
    startable_fields,
    version=3,
)


def named_slug(body):
    """The well-formed slug a session-start body names as `agent`, or None."""
    slug = body.get("agent") if isinstance(body, dict) else None
    return slug if isinstance(slug, str) and SLUG.fullmatch(slug) else None


def startable_keys(slug):
    """The cache keys of the character `slug` names, to be read in a round trip the request
    makes anyway (the throttle's); none without a slug."""
    return SESSION_START.keys(slug) if slug else ()


def startable_character(slug, found=None):
    """The active character with this slug as session start needs it, or None. `found`: the
    cache's answer for SESSION_START.keys(slug) when the caller already read them."""
    hit = SESSION_START.lookup(slug, found)
    if hit is None:
        return None
    allowed_origins, fields = hit
    return StartableCharacter(allowed_origins=allowed_origins, **fields)


def startable_version(character, number):
    """`character` (a StartableCharacter) as its version `number` held it, for a backend
    trying a draft; None when it has no such version."""
    version = CharacterVersion.objects.filter(character_id=character.id, number=number).first()
    if version is None:
        return None
    live = Character.objects.only("id", "owner_id", "created_at", "publishing").get(pk=character.id)
    fields = startable_fields(as_of_version(live, version))
    return StartableCharacter(allowed_origins=character.allowed_origins, **fields)


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


def tenant_id(owner_id):
    """The platform's `tenant_id` of a session: its owner's id as a string (until
    organizations exist; then the organization's slug)."""
    return str(owner_id)


def history_sessions(user, *, character_slug=None, tenant=None, version=None, start=None, end=None):
    """The sessions `user` sees, filtered as the history's query asks. `start`/`end` are
    inclusive bounds on the creation time. Any `tenant` but one of the owners the user sees
    matches nothing: a filter is never ignored."""
    sessions = sessions_visible_to(user)
    if character_slug is not None:
        sessions = sessions.filter(character_slug=character_slug)
    if tenant is not None:
        owner = int(tenant) if tenant.isascii() and tenant.isdigit() else None
        if owner is None or tenant_id(owner) != tenant:
            return sessions.none()
        sessions = sessions.filter(owner_id=owner)
    if version is not None:
        sessions = sessions.filter(version=version)
    if start is not None:
        sessions = sessions.filter(started_at__gte=start)
    if end is not None:
        sessions = sessions.filter(started_at__lte=end)
    return sessions


def session_by_id(user, session_id):
    """One session `user` sees, by its `sess_…` id or its integer id, or None."""
    sessions = sessions_visible_to(user)
    if re.fullmatch(SESSION_ID_PATTERN, session_id):
        return sessions.filter(pk=session_id).first()
    if session_id.isascii() and session_id.isdigit() and len(session_id) <= 16:
        return sessions.filter(number=int(session_id)).first()
    return None


def usage_totals(sessions):
    """`total_sessions` and `total_<field>` of every usage field, in one aggregate query, and
    `total_estimated_cost_usd`."""
    totals = sessions.aggregate(
        total_sessions=Count("pk"),
        **{f"total_{field}": Sum(field, default=0) for field in USAGE_FIELDS},
    )
    usage = {field: totals[f"total_{field}"] for field in USAGE_FIELDS}
    totals["total_estimated_cost_usd"] = estimated_cost(usage)
    return totals


MICRO_DOLLAR = Decimal("0.000001")
# usage field -> (units per priced unit, price setting)
PRICED_USAGE = {
    "session_duration_seconds": (60, "per_session_minute"),
    "llm_input_tokens": (1_000_000, "per_million_llm_input_tokens"),
    "llm_output_tokens": (1_000_000, "per_million_llm_output_tokens"),
    "stt_audio_seconds": (60, "per_stt_minute"),
    "tts_characters": (1_000_000, "per_million_tts_characters"),
}


def estimated_cost(usage):
    """US dollars at the configured unit prices (all 0 unless set), as a decimal string to
    the micro-dollar ("0.015236"): computed in decimal, so no float rounding shows."""
    prices = settings.USAGE_PRICES_USD
    cost = sum(
        Decimal(str(usage[field])) / per * Decimal(str(prices[price]))
        for field, (per, price) in PRICED_USAGE.items()
    )
    return str(Decimal(cost).quantize(MICRO_DOLLAR, rounding=ROUND_HALF_UP))
