"""A deactivated owner's characters serve no one, at once, whatever the widget cache holds.

The widget's appearance fetch, session start, form submission and knowledge-base search are
each a 404 for a character whose owner's account is inactive (User.is_active=False), from the
request after the deactivation commits, also when the cache already holds the character; and
they serve again once the owner is reactivated.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from calls.models import CallSession, FormResponse
from tests.helpers import (
    WIDGET_ORIGIN,
    form_payload,
    start_call,
    submit_form,
)

pytestmark = pytest.mark.usefixtures("form_settings")

KB_WORKER_KEY = "kb-worker-key-for-inactive-owner-tests"


def appearance(client, slug="shop-helper", origin=WIDGET_ORIGIN):
    return client.get(f"/api/agents/{slug}/appearance/", HTTP_ORIGIN=origin)


def set_active(user, value, capture):
    """Save the owner as the admin does (a full save), running what waits for the commit."""
    with capture(execute=True):
        user.is_active = value
        user.save()


def test_the_appearance_fetch_is_a_404_at_once_even_when_cached(
    api_client, widget_character, user, django_capture_on_commit_callbacks
):
    assert appearance(api_client).status_code == 200  # cached now
    set_active(user, False, django_capture_on_commit_callbacks)
    response = appearance(api_client)
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response
    set_active(user, True, django_capture_on_commit_callbacks)
    assert appearance(api_client).status_code == 200


def test_session_start_is_a_404_at_once_even_when_cached(
    api_client, widget_character, user, django_capture_on_commit_callbacks
):
    assert start_call(api_client).status_code == 200  # cached now
    set_active(user, False, django_capture_on_commit_callbacks)
    response = start_call(api_client)
    assert response.status_code == 404
    assert CallSession.objects.count() == 1
    set_active(user, True, django_capture_on_commit_callbacks)
    assert start_call(api_client).status_code == 200


def test_a_cold_cache_never_serves_them(api_client, widget_character, user):
    user.is_active = False
    user.save()
    assert appearance(api_client).status_code == 404
    assert start_call(api_client).status_code == 404
    assert not CallSession.objects.exists()


def test_every_character_of_the_owner_goes(
    api_client, make_character, user, other_user, django_capture_on_commit_callbacks
):
    for slug, owner in (("first", user), ("second", user), ("others", other_user)):
        make_character(owner, slug=slug, allowed_origins=[WIDGET_ORIGIN])
        assert appearance(api_client, slug).status_code == 200
    set_active(user, False, django_capture_on_commit_callbacks)
    assert appearance(api_client, "first").status_code == 404
    assert appearance(api_client, "second").status_code == 404
    assert appearance(api_client, "others").status_code == 200


def test_form_submission_is_a_404(
    api_client, sales_session, user, django_capture_on_commit_callbacks
):
    body = {
        "form_id": "book-demo",
        "session_id": sales_session,
        "values": {"name": "Ada Lovelace", "email": "ada@example.com"},
    }
    assert submit_form(api_client, body).status_code == 201
    set_active(user, False, django_capture_on_commit_callbacks)
    assert submit_form(api_client, body).status_code == 404
    assert FormResponse.objects.count() == 1


def test_knowledge_base_search_is_a_404_for_the_worker_key(
    character, user, settings, django_capture_on_commit_callbacks
):
    settings.KB_QUERY_API_KEY = KB_WORKER_KEY
    worker = APIClient()
    worker.credentials(HTTP_X_API_KEY=KB_WORKER_KEY)

    def search():
        return worker.get("/api/knowledge-base/query/", {"slug": "support-bot", "q": "refunds"})

    assert search().status_code == 200
    set_active(user, False, django_capture_on_commit_callbacks)
    assert search().status_code == 404
    response = worker.post(
        "/api/knowledge-base/query/", {"slug": "support-bot", "q": "refunds"}, format="json"
    )
    assert response.status_code == 404


def test_deactivation_in_the_admin_is_seen_at_once(
    admin_client, api_client, widget_character, user, django_capture_on_commit_callbacks
):
    assert appearance(api_client).status_code == 200
    url = reverse("admin:accounts_user_change", args=[user.pk])
    payload = form_payload(admin_client.get(url))
    payload.pop("is_active", None)  # an unchecked box is not sent
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, payload).status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert appearance(api_client).status_code == 404
    assert start_call(api_client).status_code == 404


def test_other_saves_of_the_owner_keep_the_cached_entry(
    api_client, widget_character, user, django_capture_on_commit_callbacks
):
    """A login (last_login) or a profile save is not a deactivation: the hot path stays a
    cache hit, with no query of the character."""
    assert appearance(api_client).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.save(update_fields=["last_login"])
        user.email = "renamed@example.com"
        user.save()
    with CaptureQueriesContext(connection) as queries:
        assert appearance(api_client).status_code == 200
    assert not [q["sql"] for q in queries if "characters_character" in q["sql"]]
