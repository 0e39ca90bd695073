"""The acting organization of a request, resolved once and kept on the request.

`X-Organization: <slug>` names it, else the user's default (their personal organization
unless they chose another with PATCH /api/auth/me/). An API key acts only in its own
organization: naming another one is a 403. A slug the caller is not a member of is a 404,
as another organization's objects are. The caller's role comes with it, read per request
(JWTs are not re-issued when a role changes); a key acts with the lower of its own role and
its creator's current one (its authentication's query reads both: api_keys/selectors.py).
"""

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, Value, When
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.models import TokenUser

from accounts.organizations import roles
from accounts.organizations.models import Membership
from oshara.compiled import Compiled, columns, instance

HEADER = "X-Organization"
# What an Acting is made of, read with the membership.
ACTING_COLUMNS = ("organization_id", "organization__slug", "role", "organization__is_personal")
# Stand-ins for the user and the slug in the compiled look-ups (oshara/compiled.py).
USER, SLUG = -7_301_733_051, "\x00organization\x00"
META_KEY = "HTTP_X_ORGANIZATION"
REQUEST_ATTRIBUTE = "_acting_organization"


class OrganizationCredential:
    """A credential that belongs to one organization (an API key): it decides alone where it
    acts, with `organization`, `role` and `creator_role` (its creator's current role)."""

    def acting(self, slug):
        organization = self.organization
        if slug is not None and slug != organization.slug:
            raise PermissionDenied(
                f"This API key acts only in its own organization ({organization.slug})."
            )
        role = roles.lower(self.role, self.creator_role)
        return Acting(organization.pk, organization.slug, role, organization.is_personal)


@dataclass(frozen=True)
class Acting:
    organization_id: int
    slug: str
    role: str
    is_personal: bool = False

    def may(self, action):
        return roles.may(self.role, action)


def requested_slug(request):
    """The slug X-Organization names, or None (an empty header names none)."""
    return request.META.get(META_KEY, "").strip() or None


def acting_organization(request):
    """The request's Acting organization (404 or 403 when the caller may not act there)."""
    cached = getattr(request, REQUEST_ATTRIBUTE, None)
    if cached is None:
        cached = resolve(request)
        setattr(request, REQUEST_ATTRIBUTE, cached)
    return cached


def act_in(request, slug):
    """The organization a path names (/api/organizations/{slug}/…) is the acting one: the
    caller must be a member (else 404, as for X-Organization)."""
    found = member_acting(request.user.id, slug)
    if found is None:
        raise NotFound("No organization with this slug has you as a member.")
    setattr(request, REQUEST_ATTRIBUTE, found)
    return found


def resolve(request):
    slug = requested_slug(request)
    if isinstance(request.auth, OrganizationCredential):
        return request.auth.acting(slug)
    user_id = request.user.id
    found = member_acting(user_id, slug)
    if found is None:
        if isinstance(request.user, TokenUser):
            # A deleted or deactivated user gets the 401 a loaded user would have.
            JWTAuthentication().get_user(request.auth)
        raise NotFound("No organization with this slug has you as a member.")
    return found


def member_acting(user_id, slug):
    """One query: the membership named by `slug`, else the default one (the personal one
    when the default is gone)."""
    row = member_row(user_id, slug, with_user=False)
    return None if row is None else Acting(*row)


def member_with_user(user_id, slug):
    """(user, Acting) in one query, the user's row read with the membership member_acting()
    picks, or None when it picks none (or there is no such user)."""
    row = member_row(user_id, slug, with_user=True)
    if row is None:
        return None
    values = list(row[len(ACTING_COLUMNS) :])
    return instance(get_user_model(), values), Acting(*row[: len(ACTING_COLUMNS)])


@functools.cache
def member_statement(named, with_user):
    """Every authenticated request but a character read runs one of these: compiled once,
    it costs a tenth of building it (oshara/compiled.py)."""
    user_columns = [f"user__{name}" for name in columns(get_user_model())] if with_user else []
    rows = memberships_of(USER, SLUG if named else None).values_list(*ACTING_COLUMNS, *user_columns)
    return Compiled(rows[:1], dict.fromkeys([USER, SLUG]))


def member_row(user_id, slug, with_user):
    """The row of member_statement(), or None (a user id that is not one: none)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    rows = member_statement(slug is not None, with_user).converted_rows({USER: user_id, SLUG: slug})
    return rows[0] if rows else None


def memberships_of(user_id, slug):
    """The user's memberships, the one `slug` names, else the preferred one first."""
    memberships = Membership.objects.filter(user_id=user_id)
    if slug is not None:
        return memberships.filter(organization__slug=slug)
    preference = Case(
        When(organization_id=F("user__default_organization_id"), then=Value(0)),
        When(organization__is_personal=True, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return memberships.order_by(preference, "joined_at", "pk")


def remember(request, acting):
    """`acting` is the request's acting organization (found by its authentication)."""
    setattr(request, REQUEST_ATTRIBUTE, acting)
