"""Writes: starting a session (race-safe per-owner limit), recording a report, a fetch or a
form response."""

import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.organizations.models import Organization
from calls.models import CallSession, FormResponse, RuntimeFetch
from knowledge import session_keys
from oshara import outbox

USAGE_FIELDS = (
    "session_duration_seconds",
    "turn_count",
    "interruption_count",
    "llm_input_tokens",
    "llm_output_tokens",
    "stt_audio_seconds",
    "tts_characters",
)
# What ran and the recording, as the worker reports them (replaced by each report).
REPORTED_FIELDS = (
    "llm_model",
    "llm_provider",
    "stt_provider",
    "tts_provider",
    "recording_status",
    "recording_url",
)
# A 429 cannot know when a running call will report; this bounds how long a client waits.
MAX_RETRY_AFTER_SECONDS = 60


class CharacterGone(Exception):
    """The character (or its owner) was deleted between its lookup and the session's insert."""


class SessionOver(Exception):
    """The session was reported (or its token expired): its runtime is not handed out."""


class FetchLimitReached(Exception):
    def __init__(self, limit):
        super().__init__(f"This session's runtime was already fetched {limit} times.")
        self.limit = limit


class SessionLimitReached(Exception):
    def __init__(self, limit, retry_after):
        super().__init__(f"{limit} sessions are already running.")
        self.limit, self.retry_after = limit, retry_after


def start_session(character, *, overrides, origin_url, started_by=None):
    """Record a new session of `character` (a StartableCharacter), unless its organization
    is at MAX_CONCURRENT_SESSIONS.

    The session and its `call.started` event are written in one transaction (oshara/outbox.py).
    With a limit, the row is inserted first, then the organization's row is locked and its
    running sessions are counted, this one included; over the limit, the insert is rolled
    back. On PostgreSQL the lock makes concurrent starts in one organization count one at a
    time (N parallel starts at the limit never exceed it); on SQLite the insert, as the
    transaction's first statement, takes the write lock at once, so concurrent starts wait
    for each other instead of failing.
    """
    session = new_session(character, overrides, origin_url)
    session.started_by_id = started_by
    limit = settings.MAX_CONCURRENT_SESSIONS
    try:
        # A savepoint inside a caller's transaction: a refused insert leaves it usable.
        with transaction.atomic():
            session.save(force_insert=True)
            if limit > 0:
                check_session_limit(session, limit)
            announce_session(session, "call.started", actor_type="widget")
    except IntegrityError:
        raise CharacterGone from None  # the foreign keys refused the row: nothing was stored
    return session


def check_session_limit(session, limit):
    """SessionLimitReached if the organization's running sessions, `session` included, exceed
    `limit`; the organization's row stays locked until the caller's transaction ends."""
    organization = Organization.objects.select_for_update().filter(pk=session.organization_id)
    list(organization.values_list("pk", flat=True))  # taken for the lock
    others = CallSession.objects.filter(organization_id=session.organization_id)
    others = others.exclude(pk=session.pk)
    now = session.started_at
    expiries = others.running(now).order_by("expires_at").values_list("expires_at", flat=True)
    expiries = list(expiries[:limit])
    if len(expiries) >= limit:
        wait = math.ceil((expiries[0] - now).total_seconds())
        raise SessionLimitReached(limit, max(1, min(wait, MAX_RETRY_AFTER_SECONDS)))


def new_session(character, overrides, origin_url):
    now = timezone.now()
    overrides = dict(overrides)
    mcp_headers = overrides.pop("mcp_headers", {})
    metadata = overrides.pop("metadata", {})
    overrides.pop("origin_url", None)
    return CallSession(
        character_id=character.id,
        character_slug=character.slug,
        owner_id=character.owner_id,
        organization_id=character.organization_id,
        version=character.version or None,  # 0: no version recorded yet
        room_name=f"{character.slug}-{secrets.token_hex(6)}",
        participant_identity=f"visitor-{secrets.token_hex(6)}",
        origin_url=origin_url,
        metadata=metadata,
        overrides=overrides,
        mcp_headers=mcp_headers,
        started_at=now,
        expires_at=now + timedelta(seconds=settings.LIVEKIT_TOKEN_TTL),
    )


def record_report(session, *, usage, transcript, reported=None):
    """End the session with the worker's usage, transcript and what ran (`reported`, keyed
    by REPORTED_FIELDS); a later report replaces them all."""
    now = timezone.now()
    session.ended_at = session.ended_at or now
    for field in USAGE_FIELDS:
        setattr(session, field, usage.get(field, 0))
    for field in REPORTED_FIELDS:
        setattr(session, field, (reported or {}).get(field, ""))
    session.transcript = transcript
    first_report = session.reported_at is None
    session.reported_at = now
    with transaction.atomic(savepoint=False):
        session.save(
            update_fields=["ended_at", "reported_at", "transcript", *USAGE_FIELDS, *REPORTED_FIELDS]
        )
        if first_report:
            announce_session(session, "call.ended", actor_type="worker", summary=True)
    session_keys.close_key(session.pk, session.ended_at)
    return session


def announce_session(session, type, *, actor_type, summary=False):
    """The session's event, in the current transaction (the change feed records it)."""
    data = {
        "session_id": session.pk,
        "character_slug": session.character_slug,
        "version": session.version,
        "origin_url": session.origin_url,
    }
    if summary:
        data.update(
            started_at=session.started_at.isoformat(),
            ended_at=session.ended_at.isoformat(),
            transcript=session.transcript,
            **{field: getattr(session, field) for field in USAGE_FIELDS},
        )
    outbox.announce(
        outbox.Change(
            type=type,
            organization_id=session.organization_id,
            subject_type="call",
            subject_id=session.pk,
            data=data,
            actor_type=actor_type,
        )
    )


def record_runtime_fetch(session, *, client_address, user_agent):
    """Record one fetch of the session's runtime (its secrets) and open its search key.

    The session's row is locked first, so a concurrent report or fetch waits: SessionOver
    once it is reported or expired, FetchLimitReached past RUNTIME_FETCH_LIMIT (0: none).
    Nothing is recorded when refused.
    """
    with transaction.atomic():
        locked = CallSession.objects.select_for_update().only("ended_at", "expires_at")
        current = locked.filter(pk=session.pk).first()
        if current is None or not current.is_running:
            raise SessionOver
        limit = settings.RUNTIME_FETCH_LIMIT
        if limit > 0 and RuntimeFetch.objects.filter(session_id=session.pk).count() >= limit:
            raise FetchLimitReached(limit)
        # Until the report closes it, the key works up to an hour after the token expires.
        session_keys.open_key(
            session.pk, session.character_id, current.expires_at + session_keys.AFTER_REPORT
        )
        fetch = RuntimeFetch.objects.create(
            session=session, client_address=client_address, user_agent=user_agent[:300]
        )
        # Audit only (the feed never sends it to a webhook: events/webhooks/dispatching.py):
        # who read the session's secrets, when.
        outbox.announce(
            outbox.Change(
                type="runtime.fetched",
                organization_id=session.organization_id,
                subject_type="call",
                subject_id=session.pk,
                data={"session_id": session.pk, "character_slug": session.character_slug},
                actor_type="worker",
            )
        )
        return fetch


def record_form_response(character, session, form, values, *, origin):
    """Store a visitor's validated submission of `form` (a merged form definition), and its
    `form_response.created` event in the same transaction."""
    with transaction.atomic(savepoint=False):
        response = FormResponse.objects.create(
            character=character,
            session=session,
            session_key=session.pk,
            form_id=form["id"],
            form_title=form.get("title", "")[:200],
            values=values,
            origin=(origin or "")[:2000],
        )
        outbox.announce(
            outbox.Change(
                type="form_response.created",
                organization_id=character.organization_id,
                subject_type="form_response",
                subject_id=response.pk,
                data={
                    "id": response.pk,
                    "character_slug": character.slug,
                    "session_id": session.pk,
                    "form_id": response.form_id,
                    "form_title": response.form_title,
                    "values": response.values,
                    "origin": response.origin,
                },
                actor_type="widget",
            )
        )
    return response
