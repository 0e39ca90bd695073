"""Writes on organizations, their members and invitations."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied

from accounts.emails import normalize_email
from accounts.organizations import invitations, slugs
from accounts.organizations.models import Invitation, Membership, Organization
from accounts.organizations.roles import Role
from oshara import outbox

CREATE_ATTEMPTS = 5


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the organization's current state."
    default_code = "conflict"


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This invitation has expired."
    default_code = "expired"


def create_organization(name, owner, *, slug=None, is_personal=False):
    """A new organization with `owner` as its owner. Without a slug one is derived from the
    name (a random suffix when taken); a slug given and taken is an IntegrityError."""
    tries = [slug] if slug else slugs.candidates(name)
    for attempt, candidate in enumerate(tries, start=1):
        try:
            with transaction.atomic():
                organization = Organization.objects.create(
                    slug=candidate, name=name, is_personal=is_personal
                )
                Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
        except IntegrityError:
            if slug or attempt >= CREATE_ATTEMPTS:
                raise
        else:
            return organization


def create_personal_organization(user):
    """The organization every user has from signup; it becomes their default."""
    name = user.email[: Organization._meta.get_field("name").max_length]
    organization = create_organization(name, user, is_personal=True)
    type(user).objects.filter(pk=user.pk).update(default_organization=organization)
    user.default_organization = organization
    return organization


def set_default_organization(user, slug):
    """Make the organization `slug` the user's default; False when they are not a member."""
    membership = Membership.objects.filter(user=user, organization__slug=slug).first()
    if membership is None:
        return False
    type(user).objects.filter(pk=user.pk).update(default_organization_id=membership.organization_id)
    return True


def delete_organization(organization):
    """Delete an organization with no characters (its keys, members, invitations and session
    history go with it); a personal one is never deleted."""
    if organization.is_personal:
        raise Conflict("A personal organization cannot be deleted.")
    locked(organization)
    if organization.characters.exists():
        raise Conflict("The organization still has characters: delete or move them first.")
    organization.delete()


def locked(organization):
    """Lock the organization's row until the transaction ends: changes to its owners are
    counted one at a time (the last owner stays)."""
    list(Organization.objects.select_for_update().filter(pk=organization.pk).values("pk"))


def owner_count(organization):
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


@transaction.atomic
def change_role(membership, role):
    locked(membership.organization)
    membership.refresh_from_db(fields=["role"])
    previous = membership.role
    demoted = previous == Role.OWNER and role != Role.OWNER
    if demoted and owner_count(membership.organization) <= 1:
        raise Conflict("The last owner cannot be demoted: make another member owner first.")
    if role == previous:  # nothing changes: no write, no event
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    announce_member("member.role_changed", membership, previous_role=previous)
    return membership


@transaction.atomic
def remove_member(membership):
    """Remove a member (or leave). Their API keys in it stop at once (the key's query needs
    the membership); a user whose default it was falls back to their personal one."""
    organization = membership.organization
    locked(organization)
    if membership.role == Role.OWNER and owner_count(organization) <= 1:
        raise Conflict("The last owner cannot leave or be removed: make another member owner.")
    announce_member("member.removed", membership)
    membership.delete()
    user = membership.user
    if user.default_organization_id == organization.pk:
        personal = Membership.objects.filter(user=user, organization__is_personal=True).first()
        type(user).objects.filter(pk=user.pk).update(
            default_organization_id=personal.organization_id if personal else None
        )


def invite(organization, email, role, invited_by):
    """Store an invitation and e-mail its token; returns (invitation, token)."""
    token = invitations.new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=organization,
            email=normalize_email(email),
            role=role,
            token_digest=invitations.digest(token),
            invited_by=invited_by,
            expires_at=timezone.now() + invitations.LIFETIME,
        )
        invitations.announce(invitation)
    invitations.send(invitation, token)
    return invitation, token


def revoke(invitation):
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def accept(user, token):
    """Make `user` a member as the invitation `token` says; returns the membership."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organization")
        .filter(
            token_digest=invitations.digest(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        )
        .first()
        if isinstance(token, str)
        else None
    )
    if invitation is None:
        raise NotFound("No such invitation (unknown, revoked or already accepted).")
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise PermissionDenied("This invitation was sent to another e-mail address.")
    if invitation.expires_at <= timezone.now():
        raise Gone()
    if Membership.objects.filter(user=user, organization=invitation.organization).exists():
        raise Conflict("You are already a member of this organization.")
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    membership = Membership.objects.create(
        organization=invitation.organization, user=user, role=invitation.role
    )
    announce_member("member.joined", membership, invitation_id=str(invitation.pk))
    return membership


def announce_member(type, membership, **extra):
    """A member's event (oshara/outbox.py), in the current transaction: the member is its
    subject, so the log's `subject=member:<user id>` is their history in the organization."""
    outbox.announce(
        outbox.Change(
            type=type,
            organization_id=membership.organization_id,
            subject_type="member",
            subject_id=membership.user_id,
            data={
                "user_id": str(membership.user_id),
                "email": membership.user.email,
                "role": membership.role,
                **extra,
            },
        )
    )
