"""JWT authentication for character reads, with the user checked by the reading query itself.

SimpleJWT's JWTAuthentication loads the user row on every request, only to check that it
exists and is active. On GET/HEAD of the characters API, SimpleJWT's own stateless
authentication runs instead: the token is validated as usual (signature, expiry, type) and
the user is a `TokenUser` (its id, from the token). The view then reads the acting
organization's characters with `<token's user>.is_active` in the same query; whenever that
query finds nothing (a 404, an empty list or count), `verify()` runs SimpleJWT's full user
check, so a deleted or deactivated user gets exactly the 401 it got before, and no one sees a
character of an organization they are not a member of.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, Q
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings

from accounts.organizations import acting


def authenticators_for(request, authenticators):
    """SimpleJWT's authenticator swapped for its stateless one on GET and HEAD, and for
    JWTMemberAuthentication on writes."""
    if request.method not in ("GET", "HEAD"):
        replacement = JWTMemberAuthentication
    elif api_settings.CHECK_REVOKE_TOKEN:
        # Revocation compares the token with the user's password hash: the user must be loaded.
        return authenticators
    else:
        replacement = JWTStatelessUserAuthentication
    return [replacement() if type(auth) is JWTAuthentication else auth for auth in authenticators]


class JWTMemberAuthentication(JWTAuthentication):
    """SimpleJWT's authentication, whose query of the user also reads the membership the
    request acts in (accounts/organizations/acting.py): a write learns who it is and where
    it acts in one statement instead of two. Whenever that finds nothing to act in, or a user
    SimpleJWT would refuse, SimpleJWT's own look-up runs, with its own errors."""

    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        by_pk = get_user_model()._meta.pk.attname == api_settings.USER_ID_FIELD
        slug = acting.requested_slug(self.request)
        found = None if user_id is None or not by_pk else acting.member_with_user(user_id, slug)
        if found is None or api_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        user, organization = found
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            return super().get_user(validated_token)
        acting.remember(self.request, organization)
        return user


def is_token_user(user):
    return isinstance(user, TokenUser)


def organization_filter(user, organization_id):
    """The characters `user` may read in the organization it acts in (a member: the acting
    organization's resolution checked it), a token user's only while it is active."""
    condition = Q(organization_id=organization_id)
    if is_token_user(user):
        condition &= token_user_active(user.id)
    return condition


def token_user_active(user_id):
    condition = Q()
    if api_settings.CHECK_USER_IS_ACTIVE:
        # An uncorrelated EXISTS is checked once per statement (PostgreSQL: a one-time filter),
        # where a join on the owner checked it again for every row an OFFSET or COUNT walks.
        active = get_user_model().objects.filter(
            **{api_settings.USER_ID_FIELD: user_id}, is_active=True
        )
        condition &= Q(Exists(active))
    return condition


def verify(request):
    """Raise the 401 a missing or inactive token user would have got from JWTAuthentication."""
    if is_token_user(request.user):
        JWTAuthentication().get_user(request.auth)
