"""Settings, health check and the JSON error contract under /api/."""

import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.helpers import SETUP, run_python

ROOT = Path(__file__).resolve().parent.parent

STRONG_KEY = "k3y-for-tests-only-0123456789-abcdefghijklmnopqrstuvwxyz"


def test_settings_refuse_default_secret_key_when_debug_off():
    result = run_python(SETUP, DJANGO_DEBUG="false", FERNET_KEYS="x" * 44)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_settings_refuse_missing_fernet_keys_when_debug_off():
    result = run_python(SETUP, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "FERNET_KEYS" in result.stderr
    assert "generate_fernet_key" in result.stderr


def test_settings_start_with_secrets_set_and_debug_off():
    result = run_python(
        SETUP,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=STRONG_KEY,
        FERNET_KEYS="ZmVybmV0LWtleS1mb3ItdGVzdHMtb25seS0zMmJ5dGU=",
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize("weak", ["s" * 60, "short-but-varied-key", "abcd" * 20])
def test_settings_refuse_a_weak_secret_key_when_debug_off(weak):
    result = run_python(
        SETUP,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=weak,
        FERNET_KEYS="ZmVybmV0LWtleS1mb3ItdGVzdHMtb25seS0zMmJ5dGU=",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak" in result.stderr
    assert weak not in result.stderr


KEYS = "from django.conf import settings;print(settings.SECRET_KEY); print(settings.FERNET_KEYS[0])"


def test_development_keys_are_random_kept_private_and_stable(tmp_path):
    keys_file = tmp_path / "dev-secrets.json"
    first = run_python(KEYS, DEV_SECRETS_FILE=str(keys_file))
    assert first.returncode == 0, first.stderr
    secret_key, fernet_key = first.stdout.split()
    assert len(secret_key) >= 50
    assert keys_file.stat().st_mode & 0o777 == 0o600
    # Kept: the next start signs and decrypts with the same keys.
    assert run_python(KEYS, DEV_SECRETS_FILE=str(keys_file)).stdout.split() == [
        secret_key,
        fernet_key,
    ]
    # Random: another checkout gets other keys; no key is a constant of the repository.
    other = run_python(KEYS, DEV_SECRETS_FILE=str(tmp_path / "other.json")).stdout.split()
    assert other[0] != secret_key and other[1] != fernet_key
    sources = "".join(p.read_text() for p in (ROOT / "oshara").glob("*.py"))
    assert secret_key not in sources and fernet_key not in sources
    # Printed nowhere: a plain start says nothing about them.
    started = run_python(SETUP, DEV_SECRETS_FILE=str(tmp_path / "third.json"))
    assert started.stdout.strip() == "started" and not started.stderr


def test_development_keys_file_is_git_ignored():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".dev-secrets.json"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


SHOW_DEBUG = "from django.conf import settings; print(settings.DEBUG)"


def test_an_unset_django_debug_means_off():
    result = run_python(
        SHOW_DEBUG,
        DJANGO_DEBUG=None,
        DJANGO_SECRET_KEY=STRONG_KEY,
        FERNET_KEYS="ZmVybmV0LWtleS1mb3ItdGVzdHMtb25seS0zMmJ5dGU=",
    )
    assert result.stdout.strip() == "False", result.stderr


def test_an_unset_django_debug_needs_the_production_secrets(tmp_path):
    keys_file = tmp_path / "dev-secrets.json"
    result = run_python(SETUP, DJANGO_DEBUG=None, DEV_SECRETS_FILE=str(keys_file))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr
    assert not keys_file.exists()  # development keys are generated in debug only


def test_debug_is_on_only_when_asked_for():
    assert run_python(SHOW_DEBUG, DJANGO_DEBUG="true").stdout.strip() == "True"


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_healthz_503_when_database_unreachable():
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz', HTTP_HOST='localhost'); print(r.status_code)"
    )
    result = run_python(code, DATABASE_URL="postgres://nobody@127.0.0.1:9/none")
    assert result.stdout.strip() == "503", result.stderr


def test_healthz_answers_plain_http_when_every_other_path_redirects(tmp_path):
    # Production settings with the HTTPS redirect on, as docs/operations.md advises behind a
    # TLS proxy: the probes inside the network still get the health check itself.
    code = (
        "import django; django.setup();"
        "from django.test import Client; c = Client(HTTP_HOST='127.0.0.1');"
        "print(c.get('/healthz').status_code, c.get('/api/ai-characters/').status_code,"
        " c.get('/healthz/x').status_code)"
    )
    result = run_python(
        code,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=STRONG_KEY,
        FERNET_KEYS=Fernet.generate_key().decode(),
        DJANGO_SECURE_SSL_REDIRECT="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.stdout.split() == ["200", "301", "301"], result.stderr


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_malformed_json_is_json_400(auth_client):
    response = auth_client.generic(
        "POST", "/api/ai-characters/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_unsupported_media_type_is_json_415(auth_client):
    response = auth_client.generic("POST", "/api/ai-characters/", "x", content_type="text/plain")
    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.django_db
def test_wrong_method_is_json_405(auth_client):
    response = auth_client.post("/api/auth/me/", {})
    assert response.status_code == 405
    assert "detail" in response.json()


@pytest.mark.django_db
def test_unhandled_error_under_api_is_json_500(auth_client, monkeypatch):
    from characters.api.views import CharacterViewSet

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(CharacterViewSet, "list", explode)
    auth_client.raise_request_exception = False
    response = auth_client.get("/api/ai-characters/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


def test_check_deploy_is_clean_with_production_variables():
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k3y-" + "a1b2c3d4e5f6g7h8" * 4,
        "FERNET_KEYS": "ZmVybmV0LWtleS1mb3ItdGVzdHMtb25seS0zMmJ5dGU=",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
    }
    code = (
        "import sys, django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = run_python(code, **env)
    assert result.returncode == 0, result.stderr


def test_request_size_cap_admits_the_largest_upload(settings):
    largest = max(
        settings.KNOWLEDGE_MAX_UPLOAD_BYTES,
        settings.CHARACTER_AUDIO_MAX_BYTES,
        settings.CHARACTER_IMAGE_MAX_BYTES,
    )
    assert largest < settings.REQUEST_MAX_BYTES
