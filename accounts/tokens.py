"""JWTs whose user id must be an integer, and a refresh token that rotates at most once."""

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

BIGINT_MAX = 2**63 - 1


def is_user_id(value):
    """SimpleJWT writes the id as a string ("42"); a database key is 1..BIGINT_MAX."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return (
        isinstance(value, str)
        and re.fullmatch(r"[1-9][0-9]{0,18}", value) is not None
        and int(value) <= BIGINT_MAX
    )


class UserIdCheck:
    """A signed token naming a user id that is not an integer is invalid (401), not a 500."""

    def verify(self, *args, **kwargs):
        super().verify(*args, **kwargs)
        if not is_user_id(self.payload.get(api_settings.USER_ID_CLAIM)):
            raise TokenError("Token has no valid user id")


class AccessToken(UserIdCheck, tokens.AccessToken):
    pass


class RefreshToken(UserIdCheck, tokens.RefreshToken):
    access_token_class = AccessToken

    def use_once(self, user):
        """Blacklist this token, or raise TokenError if another request already did.

        SimpleJWT's own `blacklist()` uses get_or_create, so concurrent refreshes of one token
        all "succeed"; a plain insert on BlacklistedToken's unique column lets exactly one.
        """
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=self.payload[api_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "created_at": self.current_time,
                "token": str(self),
                "expires_at": datetime_from_epoch(self.payload["exp"]),
            },
        )
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            raise TokenError("Token is blacklisted") from None


class RotatingRefreshSerializer(TokenRefreshSerializer):
    """SimpleJWT's refresh, with the old token used at most once and its user checked."""

    token_class = RefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload[api_settings.USER_ID_CLAIM]
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        refresh.use_once(user)
        data = {"access": str(refresh.access_token)}
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        data["refresh"] = str(refresh)
        return data


class LogoutSerializer(TokenBlacklistSerializer):
    token_class = RefreshToken
