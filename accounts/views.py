"""The /api/auth/ endpoints: sign up, log in, refresh, log out, and who am I."""

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from accounts.organizations.serializers import DefaultOrganizationSerializer
from accounts.organizations.services import set_default_organization
from accounts.serializers import SignupSerializer, TokenPairSerializer, UserSerializer
from accounts.throttling import AUTH_THROTTLES
from accounts.tokens import LogoutSerializer, RefreshToken, RotatingRefreshSerializer
from oshara.schema import error_response


def token_pair(user):
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@extend_schema(tags=["auth"], request=SignupSerializer, responses={201: TokenPairSerializer})
class SignupView(APIView):
    """Create an account and return its first token pair."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = AUTH_THROTTLES

    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            # A savepoint, so a concurrent sign-up with the same address is a 400, not a 500.
            with transaction.atomic():
                user = serializer.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"email": ["A user with this e-mail address already exists."]}
            ) from exc
        return Response(token_pair(user), status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"], responses={200: TokenPairSerializer, 401: error_response(401)})
class LoginView(TokenObtainPairView):
    """Exchange e-mail and password for an access and a refresh token."""

    throttle_classes = AUTH_THROTTLES


@extend_schema(
    tags=["auth"],
    responses={
        200: TokenPairSerializer,
        401: error_response(401, "The refresh token is invalid, expired or blacklisted."),
    },
)
class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted."""

    serializer_class = RotatingRefreshSerializer


@extend_schema(
    tags=["auth"],
    responses={
        200: OpenApiResponse({"type": "object"}, description="Blacklisted; the body is `{}`."),
        401: error_response(401, "The refresh token is invalid, expired or blacklisted."),
    },
)
class LogoutView(TokenBlacklistView):
    """Blacklist a refresh token."""

    serializer_class = LogoutSerializer


@extend_schema(tags=["auth"])
class MeView(generics.RetrieveAPIView):
    """The authenticated caller."""

    serializer_class = UserSerializer

    def get_object(self):
        return self.request.user

    @extend_schema(
        summary="Choose your default organization",
        description="The acting organization of your requests without X-Organization.",
        request=DefaultOrganizationSerializer,
        responses={200: UserSerializer, 400: error_response(400)},
    )
    def patch(self, request):
        serializer = DefaultOrganizationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        slug = serializer.validated_data["default_organization"]
        if not set_default_organization(request.user, slug):
            raise ValidationError(
                {
                    "default_organization": [
                        "You are not a member of an organization with this slug."
                    ]
                }
            )
        return Response(UserSerializer(request.user).data)
