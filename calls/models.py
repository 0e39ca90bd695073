"""Call sessions: one record per started call, and each fetch of its runtime by the worker."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from characters.crypto import EncryptedJSONField

SESSION_ID_PREFIX = "sess_"
# Also the URL pattern of every path that takes a session id: anything else is a 404 at once.
SESSION_ID_PATTERN = r"sess_[0-9a-f]{32}"


def new_session_id():
    return SESSION_ID_PREFIX + secrets.token_hex(16)


# The platform's clients read a session's `id` as an integer. Random rather than a counter
# (which would tell anyone how many calls the service has had), and below 2**53 so that
# JavaScript reads it exactly.
MAX_SESSION_NUMBER = 2**53 - 1


def new_session_number():
    return 1 + secrets.randbelow(MAX_SESSION_NUMBER)


class CallSessionQuerySet(models.QuerySet):
    def running(self, now=None):
        """Sessions that still count against the owner's limit: not ended, token not expired,
        character not deleted (its worker can no longer fetch the runtime, and nothing would
        end the session before its token expires)."""
        return self.filter(
            ended_at__isnull=True, expires_at__gt=now or timezone.now(), character__isnull=False
        )


class CallSession(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_session_id, editable=False)
    # History outlives the character: the slug stays on the record.
    character = models.ForeignKey(
        "characters.Character",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_sessions",
    )
    character_slug = models.CharField(max_length=64)  # indexed in Meta, without a LIKE copy
    # No index of its own: both owner indexes in Meta start with it, and every session start
    # pays for each index of this table.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="call_sessions",
        db_index=False,
    )
    # Who started it with their credentials (a site's backend); None for a visitor's widget.
    # No index: deleting a user deletes their sessions through `owner` first.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The character version the session runs (its runtime is built from it, whatever is
    # published later); None for sessions started before versions existed.
    version = models.PositiveIntegerField(null=True, blank=True)
    # The integer `id` of the history (unique: GET /api/billing/sessions/{id}/ takes it too).
    number = models.PositiveBigIntegerField(unique=True, default=new_session_number, editable=False)
    room_name = models.CharField(max_length=64)
    participant_identity = models.CharField(max_length=64)
    origin_url = models.CharField(max_length=2000, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # The session's overrides except mcp_headers (language, system_prompt, greeting, ...).
    overrides = models.JSONField(default=dict, blank=True)
    # Header values merged into every MCP call of the session: credentials, so encrypted.
    mcp_headers = EncryptedJSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # Usage, as the worker reports it (columns, so history totals are one SQL aggregate).
    session_duration_seconds = models.FloatField(default=0)
    turn_count = models.PositiveIntegerField(default=0)
    interruption_count = models.PositiveIntegerField(default=0)
    llm_input_tokens = models.PositiveBigIntegerField(default=0)
    llm_output_tokens = models.PositiveBigIntegerField(default=0)
    stt_audio_seconds = models.FloatField(default=0)
    tts_characters = models.PositiveBigIntegerField(default=0)
    transcript = models.JSONField(default=list, blank=True)
    # What ran, and the recording, as the worker reports them ("" until it does).
    llm_model = models.CharField(max_length=100, blank=True, default="")
    llm_provider = models.CharField(max_length=50, blank=True, default="")
    stt_provider = models.CharField(max_length=50, blank=True, default="")
    tts_provider = models.CharField(max_length=50, blank=True, default="")
    recording_status = models.CharField(max_length=32, blank=True, default="")
    recording_url = models.CharField(max_length=2000, blank=True, default="")

    objects = CallSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # Staff's history by slug, across owners (a plain index: no LIKE copy).
            models.Index(fields=["character_slug"], name="call_session_slug"),
            models.Index(fields=["owner", "-started_at"]),
            models.Index(
                fields=["owner", "expires_at"],
                condition=Q(ended_at__isnull=True),
                name="call_session_running",
            ),
        ]

    def __str__(self):
        return self.id

    @property
    def is_running(self):
        return (
            self.ended_at is None
            and self.expires_at > timezone.now()
            and self.character_id is not None
        )


class RuntimeFetch(models.Model):
    """The worker read a session's runtime (with its secrets): who, when, which session."""

    session = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="fetches")
    fetched_at = models.DateTimeField(default=timezone.now)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-fetched_at", "-id"]

    def __str__(self):
        return f"{self.session_id} @ {self.fetched_at:%Y-%m-%d %H:%M:%S}"


FORM_RESPONSE_ID_PREFIX = "fr_"


def new_form_response_id():
    return FORM_RESPONSE_ID_PREFIX + secrets.token_hex(16)


class FormResponse(models.Model):
    """What a visitor submitted to a form with `submit_url: null` (managed storage).

    It records the submission as it was: the form's definition may later change or go, the
    response stays. It goes with its character (CASCADE: deleted only when the owner deletes
    the character); its session may be deleted without it (SET_NULL, the id kept).
    """

    id = models.CharField(
        primary_key=True, max_length=40, default=new_form_response_id, editable=False
    )
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="form_responses"
    )
    session = models.ForeignKey(
        CallSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="form_responses",
    )
    # The session's id as submitted: kept when the session record is deleted.
    session_key = models.CharField("session id", max_length=40)
    form_id = models.CharField(max_length=64)
    # The form's title when it was submitted (the definition may change or be removed).
    form_title = models.CharField(max_length=200, blank=True, default="")
    values = models.JSONField(default=dict)
    origin = models.CharField(max_length=2000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["character", "-created_at"]),
            models.Index(fields=["character", "form_id", "-created_at"]),
            models.Index(fields=["character", "session_key", "-created_at"]),
        ]

    def __str__(self):
        return self.id
