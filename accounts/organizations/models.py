"""Organizations: every character, API key, session, form response and document belongs to
one. A member has one role in it (roles.py); an invitation brings in a new member by e-mail.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from accounts.organizations.roles import Role

SLUG_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
SLUG_MAX_LENGTH = 64


class Organization(models.Model):
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=100)
    # Made for one user at signup: it cannot be deleted.
    is_personal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.slug


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user_id} in {self.organization_id} ({self.role})"


class Invitation(models.Model):
    """An invitation by e-mail. Only a SHA-256 digest of its token is stored (the token is
    256 random bits: nothing to brute-force), so the table never holds a usable link."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(Lower("email"), name="invitation_email_ci")]

    def __str__(self):
        return f"{self.email} to {self.organization_id} ({self.role})"
