"""Abuse limits: login and sign-up per IP and per e-mail, the API per user."""

import pytest

from oshara import settings as production_settings

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
SIGNUP = "/api/auth/signup/"


def test_production_defaults():
    assert production_settings.AUTH_THROTTLE_RATE == "10/minute"
    assert production_settings.API_THROTTLE_RATE == "1000/minute"


def assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) >= 1
    assert "throttled" in response.json()["detail"].lower()


def test_login_is_throttled_per_ip(api_client, settings, user):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    for n in range(3):
        response = api_client.post(LOGIN, {"email": f"guess{n}@example.com", "password": "x"})
        assert response.status_code == 401
    assert_throttled(api_client.post(LOGIN, {"email": user.email, "password": "x"}))
    other_ip = api_client.post(
        LOGIN, {"email": "fresh@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_ip.status_code == 401


def test_login_is_throttled_per_email_across_addresses(api_client, settings, user):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    for n in range(3):
        body = {"email": user.email.upper(), "password": "wrong"}
        assert api_client.post(LOGIN, body, REMOTE_ADDR=f"10.0.1.{n}").status_code == 401
    # Even the right password, from a new address, waits: the account is under attack.
    from tests.helpers import PASSWORD

    body = {"email": user.email, "password": PASSWORD}
    assert_throttled(api_client.post(LOGIN, body, REMOTE_ADDR="10.0.2.1"))


def test_x_forwarded_for_does_not_dodge_the_ip_limit(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    for n in range(2):
        body = {"email": f"a{n}@example.com", "password": "x"}
        api_client.post(LOGIN, body, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    body = {"email": "b@example.com", "password": "x"}
    assert_throttled(api_client.post(LOGIN, body, HTTP_X_FORWARDED_FOR="192.0.2.99"))


def test_signup_is_throttled(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    for n in range(2):
        body = {"email": f"new{n}@example.com", "password": "a-long-password-123"}
        assert api_client.post(SIGNUP, body).status_code == 201
    body = {"email": "new9@example.com", "password": "a-long-password-123"}
    assert_throttled(api_client.post(SIGNUP, body))


def test_api_is_throttled_per_user(auth_client, other_client, settings):
    settings.API_THROTTLE_RATE = "3/minute"
    for _ in range(3):
        assert auth_client.get("/api/ai-characters/").status_code == 200
    assert_throttled(auth_client.get("/api/ai-characters/"))
    assert other_client.get("/api/ai-characters/").status_code == 200
