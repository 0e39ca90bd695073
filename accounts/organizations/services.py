"""Writes on organizations and their members."""

from django.db import IntegrityError, transaction

from accounts.organizations import slugs
from accounts.organizations.models import Membership, Organization
from accounts.organizations.roles import Role

CREATE_ATTEMPTS = 5


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
