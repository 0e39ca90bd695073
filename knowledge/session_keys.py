"""Session search keys: what the runtime body hands the voice worker as `kb_query_api_key`.

A key is `kbs_` + the session id signed with SECRET_KEY (django.core.signing, a salt of its
own; SECRET_KEY_FALLBACKS still verify during a rotation). Nothing secret is stored, and
every fetch of the runtime hands out the same key. What it searches (the session's
character) and until when are a SessionSearchKey row, which the calls app writes: opened when
the worker fetches the runtime, closed AFTER_REPORT after the session is reported.
"""

from datetime import timedelta

from django.core.signing import BadSignature, Signer
from django.utils import timezone

from knowledge.models import SessionSearchKey

PREFIX = "kbs_"
SALT = "knowledge.session-search-key"
AFTER_REPORT = timedelta(hours=1)


def key_for(session_id):
    return PREFIX + Signer(salt=SALT).sign(session_id)


def open_key(session_id, character_id, until):
    """The session's key searches `character_id` until `until` (at the latest)."""
    SessionSearchKey.objects.update_or_create(
        session_id=session_id, defaults={"character_id": character_id, "expires_at": until}
    )


def close_key(session_id, reported_at):
    """The session was reported: its key stops working AFTER_REPORT later."""
    SessionSearchKey.objects.filter(session_id=session_id).update(
        expires_at=reported_at + AFTER_REPORT
    )


def is_session_key(presented):
    return presented.startswith(PREFIX)


def signed_session_id(presented):
    """The session id a key was made for, or None when its signature is wrong."""
    try:
        return Signer(salt=SALT).unsign(presented.removeprefix(PREFIX))
    except BadSignature:
        return None


def live_key(session_id):
    """The session's SessionSearchKey if it still works, else None."""
    return SessionSearchKey.objects.filter(
        session_id=session_id, expires_at__gt=timezone.now()
    ).first()
