"""Abuse limits: login and sign-up per IP and per e-mail, the API per user."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from oshara import settings as production_settings
from oshara.http.throttling import WidgetIPRateThrottle, WindowCounterThrottle, count_hit
from tests.helpers import PASSWORD, client_for, use_redis_cache

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
    # An address that already failed waits, even with the right password: it is guessing.
    body = {"email": user.email, "password": PASSWORD}
    assert_throttled(api_client.post(LOGIN, body, REMOTE_ADDR="10.0.1.0"))


def test_a_stranger_cannot_lock_the_owner_out(api_client, settings, user):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    for _ in range(3):
        body = {"email": user.email, "password": "wrong"}
        assert api_client.post(LOGIN, body, REMOTE_ADDR="203.0.113.7").status_code == 401
    stranger = api_client.post(
        LOGIN, {"email": user.email, "password": "x"}, REMOTE_ADDR="203.0.113.7"
    )
    assert_throttled(stranger)
    # The owner's address has no recent failure: it still gets to try, and logs in.
    owner = api_client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.2"
    )
    assert owner.status_code == 200


ADMIN_LOGIN = "/admin/login/"


def admin_attempt(client, email, password, address="192.0.2.10"):
    body = {"username": email, "password": password, "next": "/admin/"}
    return client.post(ADMIN_LOGIN, body, REMOTE_ADDR=address)


def test_admin_login_has_the_api_login_limits(client, settings, make_user):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    staff = make_user("operator@example.com", is_staff=True, is_superuser=True)
    for _ in range(3):
        assert admin_attempt(client, staff.email, "wrong").status_code == 200  # the form again
    refused = admin_attempt(client, staff.email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session
    # The per-IP limit: new guesses from that address at other accounts wait too.
    assert admin_attempt(client, "other@example.com", "x").status_code == 429
    # Failures at the admin count for the API login as well (one count per e-mail).
    api = APIClient().post(
        LOGIN, {"email": staff.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.10"
    )
    assert_throttled(api)
    # The owner, from an address without failures, logs in to the admin.
    assert admin_attempt(client, staff.email, PASSWORD, address="198.51.100.3").status_code == 302


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


@pytest.mark.django_db(transaction=True)
def test_the_api_limit_is_exact_under_concurrent_requests(user, settings):
    """One counter per window, incremented atomically: 16 simultaneous requests against a
    limit of 5 let exactly 5 through (a day's window: the test never straddles two)."""
    settings.API_THROTTLE_RATE = "5/day"
    clients = [client_for(user) for _ in range(16)]
    barrier = threading.Barrier(len(clients))
    statuses, errors = [], []

    def request(client):
        try:
            barrier.wait()
            statuses.append(client.get("/api/ai-characters/").status_code)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(statuses) == [200] * 5 + [429] * 11
    # Refused requests are not counted: the budget stays used up, not overdrawn.
    assert_throttled(client_for(user).get("/api/ai-characters/"))


class ClockedThrottle(WindowCounterThrottle):
    """The API's counter with a clock the test sets (the rate from API_THROTTLE_RATE)."""

    rate_setting = "API_THROTTLE_RATE"
    clock = 0.0

    def timer(self):
        return ClockedThrottle.clock

    def get_cache_key(self, request, view):
        return "throttle_test_clocked"


def hits(at, count=1):
    ClockedThrottle.clock = at
    results = []
    for _ in range(count):
        throttle = ClockedThrottle()
        results.append(throttle.allow_request(None, None) or throttle.wait())
    return results


def test_the_window_slides_over_the_previous_one(settings):
    """Four allowed late in one minute still weigh on the start of the next: no burst of
    twice the rate across a window's edge, and Retry-After says when one more fits."""
    settings.API_THROTTLE_RATE = "4/minute"
    start = 60 * 1_000_000  # the start of a minute
    assert hits(start + 50, 5) == [True] * 4 + [10]  # this window is full: wait for its end
    # 5 s into the next minute the previous four still count 4 x 55/60: one more is too many;
    # it fits once their share is at most 3, at 15 s in.
    assert hits(start + 65) == [10]
    assert hits(start + 75) == [True]
    # 16 s in: 1 + 1 + 4 x 44/60 > 4; the next fits when 4 x remaining/60 <= 2, at 30 s in.
    assert hits(start + 76) == [14]


def test_the_counter_on_redis_reads_its_keys_and_survives_a_script_flush(settings):
    """django-redis, as production runs it: one script counts and reads; a Redis that lost
    its scripts (a restart) gets it again instead of failing the request."""
    from django.core.cache import cache

    use_redis_cache(settings, backend="django_redis.cache.RedisCache")
    cache.client.get_client(write=True).script_flush()
    assert count_hit("hits", "hits-before", 60, ("entry", "token")) == (1, 0, {})
    cache.set("entry", {"body": b"{}"})
    cache.set("hits-before", 4)
    found = count_hit("hits", "hits-before", 60, ("entry", "token"))
    assert found == (2, 4, {"entry": {"body": b"{}"}})
    assert 0 < cache.ttl("hits") <= 60


@pytest.mark.parametrize("num_proxies", [None, 0, 1, 2])
@pytest.mark.parametrize(
    "forwarded", [None, "", "198.51.100.7", "198.51.100.7, 203.0.113.9", " 198.51.100.7 ,10.0.0.1 "]
)
def test_the_client_address_is_drfs(settings, num_proxies, forwarded):
    """The counters read the address from META (a shortcut, see get_ident): the same address
    DRF's own rule picks for every NUM_PROXIES and X-Forwarded-For."""
    from rest_framework.settings import api_settings
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import BaseThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    assert num_proxies == api_settings.NUM_PROXIES
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = APIRequestFactory().get("/", REMOTE_ADDR="192.0.2.1", **extra)
    assert WidgetIPRateThrottle().get_ident(request) == BaseThrottle().get_ident(request)
