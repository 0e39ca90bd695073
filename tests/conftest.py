"""Shared fixtures: users, authenticated API clients and characters."""

import itertools

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from characters.models import Character

PASSWORD = "correct-horse-battery-staple-42"
_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads into its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing strength is Django's concern; tests only need passwords to check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Background tasks run in the test's own thread when enqueued (the worker test opts out)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


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


def png_upload(name="face.png", size=(8, 8), colour="red"):
    """A real, small PNG image as a multipart upload."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def stored_files(root):
    """Every file under MEDIA_ROOT, relative to it."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def _empty_read_cache():
    """The read cache lives in the process: every test starts without entries."""
    from characters import read_cache

    read_cache.entries.clear()
    yield
    read_cache.entries.clear()


LIVEKIT_TEST_SECRET = "test-livekit-secret-0123456789abcdef0123456789"
AGENT_WORKER_TEST_KEY = "worker-key-0123456789abcdef0123456789abcdef"
WIDGET_ORIGIN = "https://shop.example.com"


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


def start_call(client, agent="shop-helper", origin=WIDGET_ORIGIN, **body):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post("/api/agents/agent-session/", {"agent": agent, **body}, **headers)


def worker_client():
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=AGENT_WORKER_TEST_KEY)
    return client
