"""API keys: long-lived, revocable credentials for a user's backends (`X-API-Key: sk_…`).

Only a SHA-256 digest of each key is stored. A key is 256 random bits, so a fast digest is
as safe as a slow password hash (nothing to brute-force) and costs microseconds on every
request, where PBKDF2 would cost tens of milliseconds. The row is found by `prefix`, an
indexed slice of the random part, and the digest is then compared in constant time.
"""

from django.conf import settings
from django.db import models

from accounts.organizations.acting import OrganizationCredential
from accounts.organizations.models import Organization
from accounts.organizations.roles import Role

KEY_PREFIX = "sk_"
RANDOM_HEX_CHARS = 64  # secrets.token_hex(32): 256 bits
LOOKUP_HEX_CHARS = 16  # 64 bits of the random part: unique in practice, indexed
PREVIEW_SEPARATOR = "..."


class ApiKey(OrganizationCredential, models.Model):
    # The member who created it: the key acts with the lower of its role and theirs, and
    # stops when they leave its organization.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=LOOKUP_HEX_CHARS, unique=True, editable=False)
    hashed_key = models.CharField("SHA-256 of the key", max_length=64, editable=False)
    key_preview = models.CharField(max_length=16, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.key_preview})"

    # Its creator's current role in its organization: read with the key (selectors.py).
    creator_role = None

    @property
    def throttle_ident(self):
        """The API rate throttle counts each key apart from its user's JWT sessions."""
        return f"key-{self.pk}"
