"""Invitation tokens and the e-mail that carries them.

A token is 256 random bits, shown once (to the admin who invited, and in the e-mail); only its
SHA-256 digest is stored, so a leaked table holds no usable invitation. The e-mail goes through
Django's e-mail backend (EMAIL_URL: the console by default).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail

from oshara import outbox

LIFETIME = timedelta(days=7)
TOKEN_BYTES = 32


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def send(invitation, token):
    organization = invitation.organization
    inviter = invitation.invited_by.email if invitation.invited_by else "An administrator"
    body = (
        f"{inviter} invites you to the organization {organization.name} "
        f"({organization.slug}) as {invitation.role}.\n\n"
        f"Sign in or sign up with this e-mail address, then accept with:\n\n"
        f'  POST /api/invitations/accept/ {{"token": "{token}"}}\n\n'
        f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    send_mail(
        f"Invitation to {organization.name}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )


def announce(invitation):
    """`member.invited`, in the invitation's transaction: the address and role, never the
    token (nor its digest)."""
    outbox.announce(
        outbox.Change(
            type="member.invited",
            organization_id=invitation.organization_id,
            subject_type="invitation",
            subject_id=invitation.pk,
            data={
                "invitation_id": str(invitation.pk),
                "email": invitation.email,
                "role": invitation.role,
                "expires_at": invitation.expires_at.isoformat(),
            },
        )
    )
