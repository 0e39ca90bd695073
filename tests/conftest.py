"""Shared fixtures: users, authenticated API clients and characters."""

import itertools
import uuid

import pytest
from rest_framework.test import APIClient

from characters.models import Character
from tests.helpers import (
    ACME_ORIGIN,
    AGENT_WORKER_TEST_KEY,
    LIVEKIT_TEST_SECRET,
    PASSWORD,
    WIDGET_ORIGIN,
    client_for,
    start_call,
)
from tests.reference import SALES_AGENT, SUPPORT_BOT

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads into its own temporary folders (public and private)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing strength is Django's concern; tests only need passwords to check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Background tasks run in the test's own thread when enqueued (the worker test opts out)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Every test starts with an empty cache. On Redis, a key namespace of its own: clearing
    the shared database would wipe what a parallel worker's test just stored (throttle counts)."""
    from django.core.cache import cache

    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {
            name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4()}"}
            for name, config in settings.CACHES.items()
        }
        yield
        return
    cache.clear()
    yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_user(db, django_user_model):
    def make(email=None, password=PASSWORD, **extra):
        email = email or f"user{next(_sequence)}@example.com"
        return django_user_model.objects.create_user(email=email, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("owner@example.com")


@pytest.fixture
def other_user(make_user):
    return make_user("someone-else@example.com")


@pytest.fixture
def auth_client(user):
    """An API client carrying a valid access token for `user`."""
    return client_for(user)


@pytest.fixture
def other_client(other_user):
    return client_for(other_user)


@pytest.fixture
def make_character(db):
    def make(owner, slug=None, **fields):
        slug = slug or f"character-{next(_sequence)}"
        fields.setdefault("name", slug.replace("-", " ").title())
        return Character.objects.create(owner=owner, slug=slug, **fields)

    return make


@pytest.fixture
def character(make_character, user):
    return make_character(user, slug="support-bot", name="Support Bot")


@pytest.fixture(autouse=True)
def _generous_throttle_rates(settings):
    """Tests log in and call the API many times; throttling tests set their own rates."""
    settings.AUTH_THROTTLE_RATE = "10000/minute"
    settings.API_THROTTLE_RATE = "100000/minute"


@pytest.fixture(autouse=True)
def _empty_read_cache():
    """The read cache lives in the process: every test starts without entries."""
    from characters.api import read_cache

    read_cache.entries.clear()
    read_cache.acting_organization_ids.clear()
    yield
    read_cache.entries.clear()
    read_cache.acting_organization_ids.clear()


@pytest.fixture
def calls_settings(settings):
    """LiveKit and the worker key configured, limits out of the way (tests set their own)."""
    settings.LIVEKIT_URL = "wss://livekit.example.com"
    settings.LIVEKIT_API_KEY = "APItestkey"
    settings.LIVEKIT_API_SECRET = LIVEKIT_TEST_SECRET
    settings.AGENT_WORKER_KEY = AGENT_WORKER_TEST_KEY
    settings.MAX_CONCURRENT_SESSIONS = 0
    settings.SESSION_THROTTLE_RATE = "100000/minute"
    return settings


@pytest.fixture
def widget_character(make_character, user):
    return make_character(
        user,
        slug="shop-helper",
        name="Shop Helper",
        system_prompt="You help shoppers.",
        greeting="Hello, shopper!",
        allowed_origins=[WIDGET_ORIGIN],
    )


@pytest.fixture
def sales_agent(auth_client):
    """The reference's support-bot and sales-agent, created through the API by `user`."""
    for body in (SUPPORT_BOT, SALES_AGENT):
        response = auth_client.post("/api/ai-characters/", body, format="json")
        assert response.status_code == 201, response.content
    return Character.objects.get(slug="sales-agent")


@pytest.fixture
def form_settings(calls_settings):
    """Form submissions unthrottled (the throttling tests set their own rates)."""
    calls_settings.FORM_RESPONSE_THROTTLE_RATE = "100000/minute"
    calls_settings.FORM_RESPONSE_SESSION_THROTTLE_RATE = "100000/minute"
    return calls_settings


@pytest.fixture
def sales_session(form_settings, sales_agent):
    """A call session of sales-agent, started by the widget from https://acme.com."""
    response = start_call(APIClient(), agent="sales-agent", origin=ACME_ORIGIN)
    assert response.status_code == 200, response.content
    return response.json()["session_id"]
