"""The AI character: everything that defines a voice agent."""

import uuid

from django.conf import settings
from django.db import models, transaction

from accounts.organizations.selectors import default_organization_id, is_member
from characters import validators
from characters.changes import record_change
from characters.crypto import EncryptedTextField
from characters.schemas import integrations
from characters.schemas.appearance import validate_widget_appearance
from characters.schemas.tool_fields import McpServersField, ToolsField
from characters.uploads import AudioFileField, ImageFileField

# Defined beside, registered with the app's models here.
from characters.version_models import CharacterVersion  # noqa: F401


class CharacterType(models.TextChoices):
    PODCAST_HOST = "PODCAST_HOST", "Podcast host"
    STORY_TELLER = "STORY_TELLER", "Story teller"
    SUPPORT_AGENT = "SUPPORT_AGENT", "Support agent"


class BackgroundAudio(models.TextChoices):
    NONE = "", "None"
    OFFICE = "office", "Office"
    CROWDED_ROOM = "crowded room", "Crowded room"
    CAFE = "cafe", "Cafe"
    NATURE = "nature", "Nature"


class Publishing(models.TextChoices):
    AUTO = "auto", "Every new version is live at once"
    MANUAL = "manual", "Only a published version is live"


class LLMProvider(models.TextChoices):
    OPENAI = "openai", "OpenAI"


# Secrets a client writes and never reads back: has_<name> says whether one is stored.
WRITE_ONLY_KEYS = ("llm_api_key", "kb_query_api_key")


class BulkUpdateRefused(RuntimeError):
    pass


class StaleWrite(Exception):
    """An optimistic save found the row changed since it was read (another write committed
    in between): nothing was written; read it again and retry."""


class CharacterQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # A bulk UPDATE would skip the one change path (characters/changes.py): the widget
        # cache, the list positions, the revision.
        raise BulkUpdateRefused(
            "Characters change through characters.services: update_characters(queryset, "
            "**fields) updates many, each through the change path."
        )

    update.alters_data = True

    def bump_revision(self):
        """Give these rows a new revision and change nothing else: for data that other apps
        keep about a character and its representation shows (its documents), which is not a
        change of the character's configuration."""
        return super().update(revision=uuid.uuid4())

    bump_revision.alters_data = True


class Character(models.Model):
    # The organization whose members see and manage it (PROTECT: an organization is deleted
    # only once it has no characters), and the member who created it.
    # Blank in forms: save() gives a character made without one its creator's default.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="characters", blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="characters"
    )
    slug = models.CharField(max_length=64, unique=True, validators=[validators.validate_slug])
    name = models.CharField(max_length=100)
    character_type = models.CharField(
        max_length=32, choices=CharacterType.choices, blank=True, default=""
    )
    image = ImageFileField(
        upload_to="characters/images/", blank=True, validators=[validators.validate_image]
    )
    system_prompt = models.TextField(max_length=100_000, blank=True, default="")
    greeting = models.TextField(max_length=2_000, blank=True, default="")
    voice_audio_file = AudioFileField(
        upload_to="characters/voices/", blank=True, validators=[validators.validate_audio]
    )
    voice_url = models.URLField(
        max_length=500, blank=True, default="", validators=[validators.validate_http_url]
    )
    language = models.CharField(
        max_length=35, default="en", validators=[validators.validate_language]
    )
    background_audio = models.CharField(
        max_length=16, choices=BackgroundAudio.choices, blank=True, default=""
    )
    allowed_origins = models.JSONField(
        default=list, blank=True, validators=[validators.validate_allowed_origins]
    )
    # The session-start overrides a caller admitted by its Origin alone may send (the owner's
    # credentials may send every one): see validators.SESSION_OVERRIDE_KEYS.
    session_overrides = models.JSONField(
        default=validators.default_session_overrides,
        blank=True,
        validators=[validators.validate_session_overrides],
    )
    handoff_targets = models.ManyToManyField(
        "self",
        through="HandoffTarget",
        through_fields=("source", "target"),
        symmetrical=False,
        related_name="handoff_sources",
        blank=True,
    )
    widget_appearance = models.JSONField(
        default=dict, blank=True, validators=[validate_widget_appearance]
    )
    stt_model = models.CharField(max_length=100, blank=True, default="")
    tts_model = models.CharField(max_length=100, blank=True, default="")
    llm_provider = models.CharField(
        max_length=32, choices=LLMProvider.choices, default=LLMProvider.OPENAI
    )
    llm_model = models.CharField(max_length=100, default="gpt-4o-mini")
    llm_api_key = EncryptedTextField(blank=True, default=None)
    # Where the character's `kb` tools search; "" means this service's own query endpoint.
    kb_query_url = models.URLField(
        max_length=500, blank=True, default="", validators=[validators.validate_http_url]
    )
    kb_query_api_key = EncryptedTextField(blank=True, default=None)
    # Encrypted whole: their header values are credentials (see characters/integrations.py).
    tools = ToolsField(default=list, blank=True, validators=[integrations.validate_tools])
    mcp_servers = McpServersField(
        default=list, blank=True, validators=[integrations.validate_mcp_servers]
    )
    # An inactive character is a 404 on the public endpoints; its owner still manages it.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Changes whenever anything in the API representation may have changed: every save, and
    # (same transaction) every change to its handoff links, targets or documents. The read
    # cache keys on it (characters/revisions.py, characters/api/read_cache.py).
    revision = models.UUIDField(default=uuid.uuid4, editable=False)
    # The number of its newest version (characters/history.py); 0 before the first.
    version = models.PositiveIntegerField(default=0, editable=False)
    # What the public paths serve: the newest version ("auto") or the published one.
    publishing = models.CharField(max_length=8, choices=Publishing.choices, default=Publishing.AUTO)
    published_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = CharacterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's order within an organization, with the read cache's key column: its
            # key query is an index-only scan on PostgreSQL (bench/README.md, "make bench-scale").
            models.Index(
                fields=["organization", "-created_at", "-id"],
                include=["revision"],
                name="character_org_created_idx",
            )
        ]

    def __str__(self):
        return self.slug

    def __repr__(self):
        return f"<Character {self.slug!r}>"

    def save(self, *args, announcement=None, expected_revision=None, **kwargs):
        """`announcement`: what the change is, from the service that saves it (changes.py).
        `expected_revision`: save only if the row still has this revision (the one it was
        read with), else raise StaleWrite: an optimistic write that held no lock while it
        validated (characters/api/concurrency.py)."""
        if self.owner_id is not None and (
            self.organization_id is None
            or (
                self.owner_id != self.loaded_values.get("owner_id", self.owner_id)
                and not is_member(self.owner_id, self.organization_id)
            )
        ):
            # Made without an organization (a shell, a fixture), or given to a user outside
            # it (an operator in the admin): the user's default organization.
            self.organization_id = default_organization_id(self.owner_id)
        self.revision = uuid.uuid4()
        if expected_revision is not None:
            self._expected_revision = expected_revision
            kwargs["force_update"] = True
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "revision"}
        created = self._state.adding
        # One transaction for the row and what the change path writes with it (its event); in
        # a caller's transaction no savepoint is needed (a failure fails the whole of it).
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            super().save(*args, **kwargs)
            record_change(self, "created" if created else "updated", announcement)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = self.__dict__.pop("_expected_revision", None)
        if expected is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        # UPDATE … WHERE id = %s AND revision = %s: 0 rows means another write came first.
        checked = base_qs.filter(revision=expected)
        if not super()._do_update(checked, using, pk_val, values, update_fields, forced_update):
            raise StaleWrite(self.pk)
        return True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.remember_loaded_values()
        return instance

    def remember_loaded_values(self):
        """The slug and organization the row had when read: a change also clears what the
        caches hold under them (characters/changes.py), e.g. one moved in the admin; and its
        revision, what an optimistic write expects to find (services.character_update)."""
        self.loaded_values = {
            "revision": self.__dict__.get("revision"),
            "slug": self.__dict__.get("slug"),
            "owner_id": self.__dict__.get("owner_id"),
            "organization_id": self.__dict__.get("organization_id"),
        }

    loaded_values = {}

    def clean(self):
        super().clean()
        if isinstance(self.allowed_origins, list):
            self.allowed_origins = validators.dedupe(self.allowed_origins)
        integrations.clean_tool_integrations(self)

    def has_key(self, name):
        """Whether the write-only key `name` is set. Reads that defer the ciphertext annotate
        `<name>_is_set` instead (characters/selectors.py), so nothing is decrypted."""
        if name not in self.__dict__ and f"{name}_is_set" in self.__dict__:
            return self.__dict__[f"{name}_is_set"]
        return bool(getattr(self, name))

    @property
    def has_unpublished_changes(self):
        return self.publishing == Publishing.MANUAL and self.published_version != self.version

    @property
    def has_llm_api_key(self):
        return self.has_key("llm_api_key")

    @property
    def has_kb_query_api_key(self):
        return self.has_key("kb_query_api_key")

    @property
    def ordered_handoff_targets(self):
        """The targets in the order the owner gave them (uses a prefetch when present)."""
        prefetched = self.__dict__.get("_prefetched_objects_cache", {}).get("handoff_links")
        links = self.handoff_links.all() if prefetched is None else prefetched
        return [link.target for link in links]


class HandoffTarget(models.Model):
    """One entry of a character's ordered handoff list."""

    source = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="handoff_links")
    target = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="unique_handoff_target"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="handoff_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.source_id} -> {self.target_id}"


class IdempotencyKey(models.Model):
    """A create request's Idempotency-Key and the response it produced (kept 24 h)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    # Empty while the first request is still running (only visible inside its transaction).
    response_status = models.PositiveSmallIntegerField(null=True)
    # The JSON text as first sent, so a replay is byte-for-byte the same.
    response_body = models.TextField(blank=True, default="")
    # The ETag first sent: a replay answers with it, even after the character has changed.
    response_etag = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
