"""A session records the character version it started on; its runtime is built from that
version whatever is published during the call; a backend may start a given version."""

import pytest
from rest_framework.test import APIClient

from tests.helpers import ACME_ORIGIN, runtime_url, start_call, worker_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calls_settings")]

URL = "/api/ai-characters/versioned-bot/"


@pytest.fixture(autouse=True)
def _changes_commit(monkeypatch, django_capture_on_commit_callbacks):
    """Every request's on-commit work (the widget cache's new token) runs as it returns, as
    when its transaction really commits."""
    original = APIClient.generic

    def generic(self, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "generic", generic)


@pytest.fixture
def versioned(auth_client):
    """versioned-bot, embeddable from https://acme.com, at version 1 ("Prompt one.")."""
    body = {
        "slug": "versioned-bot",
        "name": "Versioned",
        "system_prompt": "Prompt one.",
        "allowed_origins": [ACME_ORIGIN],
    }
    response = auth_client.post("/api/ai-characters/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1
    return response.json()


def change_prompt(auth_client, prompt):
    response = auth_client.patch(URL, {"system_prompt": prompt}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["version"]


def widget_start(**body):
    response = start_call(APIClient(), agent="versioned-bot", origin=ACME_ORIGIN, **body)
    return response


def runtime_prompt(session_id):
    response = worker_client().get(runtime_url(session_id))
    assert response.status_code == 200, response.content
    return response.json()["system_prompt"]


def test_the_start_answers_the_version_and_the_history_shows_it(auth_client, versioned):
    started = widget_start()
    assert started.status_code == 200
    assert started.json()["version"] == 1
    change_prompt(auth_client, "Prompt two.")
    assert widget_start().json()["version"] == 2

    history = auth_client.get("/api/billing/usage/").json()["data"]["sessions"]["data"]
    assert sorted(summary["version"] for summary in history) == [1, 2]
    only_first = auth_client.get("/api/billing/usage/", {"version": 1}).json()["data"]
    assert only_first["total_sessions"] == 1
    assert only_first["sessions"]["data"][0]["session_id"] == started.json()["session_id"]


def test_a_publish_during_the_call_does_not_change_its_runtime(auth_client, versioned):
    assert auth_client.patch(URL, {"publishing": "manual"}, format="json").status_code == 200
    assert auth_client.post(f"{URL}publish/", {"version": 1}, format="json").status_code == 200
    during = widget_start().json()
    assert (during["version"], during["system_prompt"]) == (1, "Prompt one.")

    draft = change_prompt(auth_client, "Prompt two.")
    published = auth_client.post(f"{URL}publish/", {"version": draft}, format="json")
    assert published.status_code == 200, published.content

    assert runtime_prompt(during["session_id"]) == "Prompt one."
    after = widget_start().json()
    assert (after["version"], after["system_prompt"]) == (draft, "Prompt two.")
    assert runtime_prompt(after["session_id"]) == "Prompt two."


def test_an_edit_during_the_call_does_not_change_its_runtime(auth_client, versioned):
    # "auto": every edit is live at once, for the calls that start after it.
    during = widget_start().json()
    change_prompt(auth_client, "Prompt two.")
    assert runtime_prompt(during["session_id"]) == "Prompt one."


def test_a_backend_starts_a_given_version(auth_client, versioned):
    change_prompt(auth_client, "Prompt two.")
    response = start_call(auth_client, agent="versioned-bot", origin=None, version=1)
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["system_prompt"]) == (1, "Prompt one.")
    assert runtime_prompt(response.json()["session_id"]) == "Prompt one."


def test_a_page_cannot_choose_the_version(auth_client, versioned):
    change_prompt(auth_client, "Prompt two.")
    response = widget_start(version=1)
    assert response.status_code == 403
    assert "version" in response.json()["detail"]
    assert auth_client.get("/api/billing/usage/").json()["data"]["total_sessions"] == 0


def test_an_unknown_version_is_a_400_naming_it(auth_client, versioned):
    response = start_call(auth_client, agent="versioned-bot", origin=None, version=7)
    assert response.status_code == 400
    assert "version" in response.json()
    for bad in (0, "1", 2**31):
        response = start_call(auth_client, agent="versioned-bot", origin=None, version=bad)
        assert response.status_code == 400
        assert "version" in response.json()
