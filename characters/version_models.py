"""A character's versions: one immutable row per change of its configuration
(characters/history.py records them, docs/versions.md describes them)."""

from django.db import models

from characters.crypto import EncryptedJSONField

NOTE_MAX_LENGTH = 500
# The largest version number a PositiveIntegerField holds on every database.
MAX_NUMBER = 2**31 - 1


class AuthorType(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    ADMIN = "admin", "Admin user"
    SYSTEM = "system", "System"


class Source(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    RESTORE = "restore", "Restore"
    DUPLICATE = "duplicate", "Duplicate"
    MIGRATION = "migration", "Migration"


class CharacterVersion(models.Model):
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    # The configuration without its secrets, as plain JSON (characters/history.py, snapshot()).
    snapshot = models.JSONField()
    # The keys, tools and MCP servers (whose header values are credentials): one Fernet token,
    # rotated with every other encrypted column by `manage.py rotate_fernet_keys`.
    secrets = EncryptedJSONField(default=dict, blank=True)
    # The uploads this version shows (storage names): they stay while a version names them.
    image = models.CharField(max_length=255, blank=True, default="", db_index=True)
    voice_audio_file = models.CharField(max_length=255, blank=True, default="", db_index=True)
    author_type = models.CharField(max_length=16, choices=AuthorType.choices)
    author_id = models.PositiveBigIntegerField(null=True, blank=True)
    author_label = models.CharField(max_length=254, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices)
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True, default="")
    # The paths that differ from the version before ("system_prompt", "tools[0].config.url").
    changed = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The note of the publish that made it live last (POST …/publish/ {"note"}).
    published_note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["character", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["character", "number"], name="unique_character_version_number"
            )
        ]

    def __str__(self):
        return f"{self.character_id} v{self.number}"
