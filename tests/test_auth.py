"""The /api/auth/ endpoints and JWT authentication."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/api/auth/signup/"
LOGIN = "/api/auth/login/"
REFRESH = "/api/auth/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_signup_login_me_refresh_logout_round_trip(api_client):
    response = api_client.post(SIGNUP, {"email": "New@Example.COM", "password": PASSWORD})
    assert response.status_code == 201
    assert set(response.json()) == {"access", "refresh"}

    response = api_client.post(LOGIN, {"email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 200
    tokens = response.json()

    response = api_client.get(ME, **bearer(tokens["access"]))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "new@example.com"
    assert set(body) == {"id", "email", "date_joined"}

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert api_client.get(ME, **bearer(rotated["access"])).status_code == 200

    assert api_client.post(LOGOUT, {"refresh": rotated["refresh"]}).status_code == 200
    assert api_client.post(REFRESH, {"refresh": rotated["refresh"]}).status_code == 401


def test_refresh_token_reuse_after_rotation_is_refused(api_client, user):
    tokens = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}).json()
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_login_is_case_insensitive_on_email(api_client, user):
    response = api_client.post(LOGIN, {"email": "OWNER@example.com", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("owner@example.com", "wrong-password-123"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_credentials_are_401(api_client, user, email, password):
    response = api_client.post(LOGIN, {"email": email, "password": password})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_login_without_fields_is_400_naming_them(api_client):
    response = api_client.post(LOGIN, {})
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


@pytest.mark.parametrize("email", ["owner@example.com", "OWNER@Example.com", " owner@example.com "])
def test_duplicate_email_in_any_case_is_400(api_client, user, email):
    response = api_client.post(SIGNUP, {"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "email" in response.json()
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "newcomer@example"])
def test_weak_password_is_400(api_client, password):
    response = api_client.post(SIGNUP, {"email": "newcomer@example.com", "password": password})
    assert response.status_code == 400
    assert "password" in response.json()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b"])
def test_invalid_email_is_400(api_client, email):
    response = api_client.post(SIGNUP, {"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "email" in response.json()


def test_me_without_token_is_401(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_tampered_token_is_401(api_client, user):
    token = str(AccessToken.for_user(user))
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert api_client.get(ME, **bearer(tampered)).status_code == 401


def test_expired_token_is_401(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert api_client.get(ME, **bearer(str(token))).status_code == 401


def test_refresh_token_is_not_an_access_token(api_client, user):
    tokens = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}).json()
    assert api_client.get(ME, **bearer(tokens["refresh"])).status_code == 401


def test_deactivated_user_token_is_401(api_client, user):
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save()
    assert api_client.get(ME, **bearer(token)).status_code == 401


def test_logout_twice_is_refused(api_client, user):
    tokens = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}).json()
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 200
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 401


def test_token_lifetimes_default_to_ten_and_thirty_days(settings):
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(days=10)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == timedelta(days=30)
