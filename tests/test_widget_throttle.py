"""The widget fetch under a per-address throttle, and a cache whose every key expires.

Runs on the configured cache: the in-process one by default, Redis (django-redis) when
REDIS_URL is set, so the suite's two passes cover both."""

import pytest
from django.core.cache import cache
from django.test import Client

ACME = "https://acme.com"
URL = "/api/agents/support-bot/appearance/"


@pytest.fixture
def widget(make_character, user):
    return make_character(user, slug="support-bot", name="Support Bot", allowed_origins=[ACME])


def fetch(client, url=URL, origin=ACME, address="203.0.113.7"):
    return client.get(url, HTTP_ORIGIN=origin, REMOTE_ADDR=address)


def test_fetches_beyond_the_rate_are_429_readable_by_the_page(settings, widget):
    settings.WIDGET_THROTTLE_RATE = "3/minute"
    browser = Client()
    assert [fetch(browser).status_code for _ in range(3)] == [200, 200, 200]
    refused = fetch(browser)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The embedding page's script can read the answer and its Retry-After.
    assert refused["Access-Control-Allow-Origin"] == ACME
    assert refused["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Origin" in refused["Vary"]
    # Unknown slugs and other methods count too; other addresses have their own budget.
    assert fetch(browser, url="/api/agents/ghost/appearance/").status_code == 429
    assert browser.options(URL, HTTP_ORIGIN=ACME, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert fetch(browser, address="198.51.100.2").status_code == 200


def test_default_rate_is_generous_and_a_cache_hit_stays_sql_free(
    settings, widget, django_assert_num_queries
):
    assert settings.WIDGET_THROTTLE_RATE == "600/minute"
    browser = Client()
    fetch(browser)
    with django_assert_num_queries(0):
        responses = [fetch(browser) for _ in range(50)]
    assert {response.status_code for response in responses} == {200}


def keys_without_expiry():
    """This test's cache keys that would live forever."""
    if hasattr(cache, "ttl"):  # django-redis (the test's own key prefix)
        return [key for key in cache.keys("*") if cache.ttl(key) is None]
    return [key for key, expires in cache._expire_info.items() if expires is None]


def test_no_widget_key_lives_forever(widget, auth_client, django_capture_on_commit_callbacks):
    browser = Client()
    for slug in ("support-bot", "ghost", "no-such-slug"):
        fetch(browser, url=f"/api/agents/{slug}/appearance/")
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            "/api/ai-characters/support-bot/", {"widget_appearance": {"name": "Renamed"}}
        )
    assert response.status_code == 200
    assert fetch(browser).json()["name"] == "Renamed"
    assert keys_without_expiry() == []
