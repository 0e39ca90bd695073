"""The voice worker's key is no longer one master key (issue 28.3): keys rotate without
downtime, a session's runtime is handed out a bounded number of times and never after its
report, wrong keys are throttled per address, fetches record the real client address, and no
response carrying a secret may be cached."""

import secrets

import pytest
from cryptography.fernet import Fernet
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from calls.models import RuntimeFetch
from tests.helpers import (
    AGENT_WORKER_TEST_KEY,
    SETUP,
    client_for,
    report_url,
    run_python,
    runtime_url,
    start_call,
    started,
)

pytestmark = pytest.mark.usefixtures("calls_settings")

OLD_KEY = "old-worker-key-0123456789abcdef0123456789"
NEW_KEY = "new-worker-key-0123456789abcdef0123456789"


def client_with(key, **extra):
    client = APIClient(**extra)
    client.credentials(HTTP_X_API_KEY=key)
    return client


# -- rotation ---------------------------------------------------------------------------------


def test_every_listed_key_is_admitted_so_a_key_rotates_without_downtime(
    api_client, widget_character, settings
):
    session_id = started(api_client, "shop-helper")
    settings.AGENT_WORKER_KEY = ""
    settings.AGENT_WORKER_KEYS = [OLD_KEY]
    assert client_with(OLD_KEY).get(runtime_url(session_id)).status_code == 200
    # Step 1: the new key is added; workers still on the old one keep working.
    settings.AGENT_WORKER_KEYS = [OLD_KEY, NEW_KEY]
    assert client_with(OLD_KEY).get(runtime_url(session_id)).status_code == 200
    assert client_with(NEW_KEY).get(runtime_url(session_id)).status_code == 200
    # Step 2: every worker moved over, the old key is removed.
    settings.AGENT_WORKER_KEYS = [NEW_KEY]
    assert client_with(OLD_KEY).get(runtime_url(session_id)).status_code == 401
    assert client_with(NEW_KEY).post(report_url(session_id), {}).status_code == 200


def test_the_older_single_key_is_still_read_and_merged(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    settings.AGENT_WORKER_KEYS = [NEW_KEY]
    settings.AGENT_WORKER_KEY = AGENT_WORKER_TEST_KEY
    assert client_with(AGENT_WORKER_TEST_KEY).get(runtime_url(session_id)).status_code == 200
    assert client_with(NEW_KEY).get(runtime_url(session_id)).status_code == 200


def test_no_key_at_all_turns_the_endpoints_off(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    settings.AGENT_WORKER_KEY = ""
    settings.AGENT_WORKER_KEYS = []
    assert client_with(OLD_KEY).get(runtime_url(session_id)).status_code == 404
    settings.AGENT_WORKER_KEYS = [NEW_KEY]
    assert client_with(NEW_KEY).get(runtime_url(session_id)).status_code == 200


def test_the_environment_reads_both_variables(tmp_path):
    code = SETUP + "; from calls.authentication import worker_keys; print(sorted(worker_keys()))"
    result = run_python(
        code,
        DJANGO_DEBUG="true",
        AGENT_WORKER_KEYS=f"{OLD_KEY},{NEW_KEY}",
        AGENT_WORKER_KEY=AGENT_WORKER_TEST_KEY,
        DEV_SECRETS_FILE=str(tmp_path / "dev-secrets.json"),
    )
    assert result.returncode == 0, result.stderr
    assert str(sorted([OLD_KEY, NEW_KEY, AGENT_WORKER_TEST_KEY])) in result.stdout


@pytest.mark.parametrize("variable", ["AGENT_WORKER_KEYS", "AGENT_WORKER_KEY"])
def test_production_refuses_a_short_key_in_either_variable(variable, tmp_path):
    production = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "FERNET_KEYS": Fernet.generate_key().decode(),
    }
    long_keys = f"{OLD_KEY},{NEW_KEY}" if variable == "AGENT_WORKER_KEYS" else NEW_KEY
    assert run_python(SETUP, **production, **{variable: long_keys}).returncode == 0
    short = f"{NEW_KEY},short-key" if variable == "AGENT_WORKER_KEYS" else "short-key"
    result = run_python(SETUP, **production, **{variable: short})
    assert result.returncode != 0
    assert "at least 32 characters" in result.stderr


# -- how often, and until when, the runtime is handed out --------------------------------------


def test_the_runtime_is_fetched_at_most_ten_times_by_default(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY)
    assert [client.get(runtime_url(session_id)).status_code for _ in range(10)] == [200] * 10
    refused = client.get(runtime_url(session_id))
    assert refused.status_code == 429
    assert "RUNTIME_FETCH_LIMIT" in refused.json()["detail"]
    assert "llm_api_key" not in refused.json()
    assert RuntimeFetch.objects.filter(session_id=session_id).count() == 10
    # The limit is per session: another call's runtime is still handed out.
    assert client.get(runtime_url(started(api_client, "shop-helper"))).status_code == 200


def test_the_fetch_limit_comes_from_settings(api_client, widget_character, settings):
    settings.RUNTIME_FETCH_LIMIT = 2
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY)
    statuses = [client.get(runtime_url(session_id)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_never_after_the_report_even_with_fetches_left(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY)
    assert client.get(runtime_url(session_id)).status_code == 200
    assert client.post(report_url(session_id), {}).status_code == 200
    response = client.get(runtime_url(session_id))
    assert response.status_code == 410
    assert "llm_api_key" not in response.json()
    assert RuntimeFetch.objects.filter(session_id=session_id).count() == 1


# -- wrong keys -------------------------------------------------------------------------------


def test_wrong_worker_keys_are_throttled_per_address(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    settings.API_KEY_FAILURE_THROTTLE_RATE = "2/minute"
    guesser = client_with("guess-" + AGENT_WORKER_TEST_KEY, REMOTE_ADDR="203.0.113.5")
    assert guesser.get(runtime_url(session_id)).status_code == 401
    assert guesser.post(report_url(session_id), {}).status_code == 401
    throttled = guesser.get(runtime_url(session_id))
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    # Once used up, that address gets no answer to any key, the right one included...
    right_key_there = client_with(AGENT_WORKER_TEST_KEY, REMOTE_ADDR="203.0.113.5")
    assert right_key_there.get(runtime_url(session_id)).status_code == 429
    # ... while the worker elsewhere is not locked out.
    worker = client_with(AGENT_WORKER_TEST_KEY, REMOTE_ADDR="198.51.100.20")
    assert worker.get(runtime_url(session_id)).status_code == 200
    assert not RuntimeFetch.objects.exclude(client_address="198.51.100.20").exists()


def test_a_right_key_is_never_counted_as_a_failure(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    settings.API_KEY_FAILURE_THROTTLE_RATE = "1/minute"
    client = client_with(AGENT_WORKER_TEST_KEY)
    assert [client.get(runtime_url(session_id)).status_code for _ in range(3)] == [200] * 3


# -- the recorded client address ---------------------------------------------------------------


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert api_settings.NUM_PROXIES == 1


def test_the_fetch_records_the_client_address_behind_a_trusted_proxy(
    api_client, widget_character, behind_one_proxy
):
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY, REMOTE_ADDR="10.0.0.2")
    response = client.get(runtime_url(session_id), HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert response.status_code == 200
    assert RuntimeFetch.objects.get(session_id=session_id).client_address == "203.0.113.9"


def test_a_forwarded_value_that_is_no_address_is_recorded_as_none(
    api_client, widget_character, behind_one_proxy
):
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY, REMOTE_ADDR="10.0.0.2")
    response = client.get(runtime_url(session_id), HTTP_X_FORWARDED_FOR="not-an-address")
    assert response.status_code == 200
    assert RuntimeFetch.objects.get(session_id=session_id).client_address is None


def test_without_proxies_the_peer_address_is_recorded(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    client = client_with(AGENT_WORKER_TEST_KEY, REMOTE_ADDR="192.0.2.44")
    client.get(runtime_url(session_id), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert RuntimeFetch.objects.get(session_id=session_id).client_address == "192.0.2.44"


# -- Cache-Control: no-store on every secret ---------------------------------------------------


def test_the_runtime_body_is_never_cached(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    response = client_with(AGENT_WORKER_TEST_KEY).get(runtime_url(session_id))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_new_api_key_is_never_cached(user):
    response = client_for(user).post("/api/auth/api-keys/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    assert response.json()["key"].startswith("sk_")
    assert "no-store" in response["Cache-Control"]


def test_a_session_starts_livekit_token_is_never_cached(widget_character):
    response = start_call(APIClient())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
