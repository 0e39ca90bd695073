"""JWT authentication for character reads, with the user checked by the reading query itself.

SimpleJWT loads the user row on every request, only to check that it exists and is active.
On GET/HEAD of the characters API, `DeferredUserJWTAuthentication` validates the token as
usual (signature, expiry, type) but returns a `PendingUser`; the view then reads characters
with `owner_id = <token's user id> AND owner.is_active` in the same query. Whenever that query
finds nothing (a 404, an empty list or count), or any code touches the user beyond its id,
SimpleJWT's own `get_user` runs, so a deleted or deactivated user gets exactly the 401 it got
before, and no one sees a character they do not own.
"""

from django.db.models import Q
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings


class PendingUser:
    """The token's user, not loaded yet: its id, and the real user on first other use."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, authentication, validated_token, user_id):
        self._authentication = authentication
        self._validated_token = validated_token
        self.user_id = user_id
        self._user = None

    def verify(self):
        """SimpleJWT's full check (raises AuthenticationFailed); returns the loaded user."""
        if self._user is None:
            self._user = JWTAuthentication.get_user(self._authentication, self._validated_token)
        return self._user

    def __getattr__(self, name):
        return getattr(self.verify(), name)

    def owner_filter(self):
        """The characters this token may read: its user's, and only while that user is active."""
        condition = Q(**{f"owner__{api_settings.USER_ID_FIELD}": self.user_id})
        if api_settings.CHECK_USER_IS_ACTIVE:
            condition &= Q(owner__is_active=True)
        return condition


class DeferredUserJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        if api_settings.CHECK_REVOKE_TOKEN:  # needs the user's password hash: load it now
            return super().get_user(validated_token)
        if api_settings.USER_ID_CLAIM not in validated_token:
            return super().get_user(validated_token)  # SimpleJWT's own error
        return PendingUser(self, validated_token, validated_token[api_settings.USER_ID_CLAIM])


def deferred_for_reads(request, authenticators):
    """Swap SimpleJWT's authenticator for the deferred one on GET and HEAD."""
    if request.method not in ("GET", "HEAD"):
        return authenticators
    return [
        DeferredUserJWTAuthentication() if type(auth) is JWTAuthentication else auth
        for auth in authenticators
    ]


def owner_filter(user):
    return user.owner_filter() if isinstance(user, PendingUser) else Q(owner=user)


def verify(user):
    """Raise the authentication error a missing or inactive token user would have raised."""
    if isinstance(user, PendingUser):
        user.verify()
