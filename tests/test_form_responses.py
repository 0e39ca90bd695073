"""/api/agents/{slug}/form-responses/: the widget's submission and the owner's read-back."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from calls.models import CallSession, FormResponse
from characters import services
from characters.models import Character
from tests.helpers import (
    ACME_ORIGIN,
    client_for,
    form_responses_url,
    start_call,
    submit_form,
)

pytestmark = pytest.mark.usefixtures("form_settings")

BOOK_DEMO = {"name": "Ada Lovelace", "email": "ada@example.com"}


def book_demo(session_id, **values):
    return {"form_id": "book-demo", "session_id": session_id, "values": {**BOOK_DEMO, **values}}


def test_book_demo_round_trip(api_client, auth_client, sales_session):
    """The reference's sales-agent: the widget submits "book-demo", the owner reads it back."""
    response = submit_form(api_client, book_demo(sales_session))
    assert response.status_code == 201, response.content
    stored = response.json()
    assert set(stored) == {"id", "form_id", "session_id", "values", "created_at"}
    assert stored["form_id"] == "book-demo"
    assert stored["session_id"] == sales_session
    assert stored["values"] == BOOK_DEMO
    assert stored["id"].startswith("fr_")
    assert response["Access-Control-Allow-Origin"] == ACME_ORIGIN
    assert "Origin" in response["Vary"]

    listed = auth_client.get(form_responses_url())
    assert listed.status_code == 200
    assert listed.json() == [stored]


def test_preflight_from_an_allowed_origin(api_client, sales_agent):
    response = api_client.options(
        form_responses_url(),
        HTTP_ORIGIN=ACME_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ACME_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "content-type"
    assert response["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    "origin", ["https://acme.com.evil.net", "http://acme.com", "https://staging.acme.com"]
)
def test_preflight_and_post_from_another_origin_are_403_without_cors(
    api_client, sales_session, origin
):
    preflight = api_client.options(form_responses_url(), HTTP_ORIGIN=origin)
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight
    response = submit_form(api_client, book_demo(sales_session), origin=origin)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]
    assert not FormResponse.objects.exists()


def test_no_origin_is_403(api_client, sales_session):
    response = submit_form(api_client, book_demo(sales_session), origin=None)
    assert response.status_code == 403
    assert "Origin header" in response.json()["detail"]


def test_the_owners_credentials_need_no_origin(auth_client, sales_session):
    response = submit_form(auth_client, book_demo(sales_session), origin=None)
    assert response.status_code == 201, response.content


def test_someone_elses_credentials_do_not_replace_the_origin(other_client, sales_session):
    response = submit_form(other_client, book_demo(sales_session), origin=None)
    assert response.status_code == 403


def test_any_origin_switch_admits_every_origin(api_client, sales_session, settings):
    settings.WIDGET_ALLOW_ANY_ORIGIN = True
    response = submit_form(api_client, book_demo(sales_session), origin="https://other.example")
    assert response.status_code == 201


def test_unknown_slug_is_404(api_client, sales_session):
    assert submit_form(api_client, book_demo(sales_session), slug="nobody").status_code == 404
    assert (
        api_client.options(form_responses_url("nobody"), HTTP_ORIGIN=ACME_ORIGIN).status_code == 404
    )


def test_inactive_character_is_404_but_its_owner_still_reads(
    api_client, auth_client, sales_session, sales_agent
):
    assert submit_form(api_client, book_demo(sales_session)).status_code == 201
    services.update_characters(Character.objects.filter(pk=sales_agent.pk), is_active=False)
    response = submit_form(api_client, book_demo(sales_session))
    assert response.status_code == 404
    assert len(auth_client.get(form_responses_url()).json()) == 1


def test_a_body_over_the_limit_is_413(api_client, sales_session, settings):
    settings.FORM_RESPONSE_MAX_BYTES = 1000
    response = submit_form(api_client, book_demo(sales_session, name="x" * 2000))
    assert response.status_code == 413
    assert not FormResponse.objects.exists()


def test_a_body_over_the_global_limit_is_413(api_client, sales_session, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    response = submit_form(api_client, book_demo(sales_session, name="x" * 600))
    assert response.status_code == 413


def test_not_json_is_415_or_400(api_client, sales_session):
    response = api_client.post(
        form_responses_url(), "name=ada", content_type="text/plain", HTTP_ORIGIN=ACME_ORIGIN
    )
    assert response.status_code == 415
    response = api_client.post(
        form_responses_url(), "{not json", content_type="application/json", HTTP_ORIGIN=ACME_ORIGIN
    )
    assert response.status_code == 400


# -- throttling ---------------------------------------------------------------------------


def test_throttled_per_client_address(api_client, sales_session, settings):
    settings.FORM_RESPONSE_THROTTLE_RATE = "2/minute"
    for _ in range(2):
        assert submit_form(api_client, book_demo(sales_session)).status_code == 201
    response = submit_form(api_client, book_demo(sales_session))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    other_address = submit_form(api_client, book_demo(sales_session), REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 201


def test_throttled_per_session_whatever_the_address(api_client, sales_session, settings):
    settings.FORM_RESPONSE_SESSION_THROTTLE_RATE = "2/minute"
    for address in ("10.0.0.1", "10.0.0.2"):
        response = submit_form(api_client, book_demo(sales_session), REMOTE_ADDR=address)
        assert response.status_code == 201
    response = submit_form(api_client, book_demo(sales_session), REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429
    assert "Retry-After" in response
    another = start_call(APIClient(), agent="sales-agent", origin=ACME_ORIGIN).json()
    fresh = submit_form(api_client, book_demo(another["session_id"]), REMOTE_ADDR="10.0.0.3")
    assert fresh.status_code == 201
    assert FormResponse.objects.count() == 3


# -- the owner's read-back ------------------------------------------------------------------


def submit_many(client, session_id, count):
    ids = []
    for number in range(count):
        response = submit_form(client, book_demo(session_id, name=f"Visitor {number}"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def test_list_is_newest_first_and_filters(api_client, auth_client, sales_session, sales_agent):
    ids = submit_many(api_client, sales_session, 3)
    other_session = start_call(APIClient(), agent="sales-agent", origin=ACME_ORIGIN).json()
    later = submit_form(api_client, book_demo(other_session["session_id"])).json()["id"]

    assert [r["id"] for r in auth_client.get(form_responses_url()).json()] == [
        later,
        *reversed(ids),
    ]
    by_session = auth_client.get(form_responses_url(), {"session_id": sales_session}).json()
    assert [r["id"] for r in by_session] == list(reversed(ids))
    assert auth_client.get(form_responses_url(), {"form_id": "book-demo"}).json()[0]["id"] == later
    assert auth_client.get(form_responses_url(), {"form_id": "other"}).json() == []


def test_list_pages_like_the_character_list(api_client, auth_client, sales_session):
    ids = list(reversed(submit_many(api_client, sales_session, 5)))
    response = auth_client.get(form_responses_url(), {"limit": 2, "offset": 1})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == ids[1:3]
    assert response["X-Total-Count"] == "5"
    assert 'rel="next"' in response["Link"] and 'rel="prev"' in response["Link"]
    unpaged = auth_client.get(form_responses_url())
    assert "X-Total-Count" not in unpaged
    assert len(unpaged.json()) == 5


def list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(form_responses_url())
    assert response.status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_responses(api_client, auth_client, sales_session):
    submit_many(api_client, sales_session, 2)
    few = list_queries(auth_client)
    submit_many(api_client, sales_session, 10)
    assert list_queries(auth_client) == few


def test_someone_elses_character_is_404(api_client, other_client, sales_session):
    submit_form(api_client, book_demo(sales_session))
    response = other_client.get(form_responses_url())
    assert response.status_code == 404
    assert "ada@example.com" not in response.content.decode()


def test_reading_needs_credentials(api_client, sales_session):
    assert api_client.get(form_responses_url()).status_code == 401


def test_an_api_key_reads_too(api_client, auth_client, sales_session):
    submit_form(api_client, book_demo(sales_session))
    key = auth_client.post("/api/auth/api-keys/", {"name": "crm"}, format="json").json()["key"]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    response = client.get(form_responses_url())
    assert response.status_code == 200
    assert response.json()[0]["values"] == BOOK_DEMO


# -- what the responses outlive, and what they do not ---------------------------------------


def test_responses_outlive_a_change_and_the_removal_of_their_form(
    api_client, auth_client, sales_session, sales_agent
):
    stored = submit_form(api_client, book_demo(sales_session)).json()
    appearance = {"forms": [{"id": "book-demo", "title": "Book", "fields": [{"name": "phone"}]}]}
    changed = auth_client.patch(
        "/api/ai-characters/sales-agent/", {"widget_appearance": appearance}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert auth_client.get(form_responses_url()).json() == [stored]
    removed = auth_client.patch(
        "/api/ai-characters/sales-agent/", {"widget_appearance": {}}, format="json"
    )
    assert removed.status_code == 200
    assert auth_client.get(form_responses_url()).json() == [stored]
    # The form is gone, so a new submission is refused; what was stored stays.
    assert submit_form(api_client, book_demo(sales_session)).status_code == 400


def test_responses_outlive_their_session_record(api_client, auth_client, sales_session):
    stored = submit_form(api_client, book_demo(sales_session)).json()
    CallSession.objects.filter(pk=sales_session).delete()
    [listed] = auth_client.get(form_responses_url()).json()
    assert listed == stored
    assert FormResponse.objects.get().session is None


def test_responses_go_with_their_character(api_client, auth_client, sales_session, user):
    submit_form(api_client, book_demo(sales_session))
    assert auth_client.delete("/api/ai-characters/sales-agent/").status_code == 204
    assert not FormResponse.objects.exists()
    # Recreated under the same slug, the old responses do not come back.
    auth_client.post("/api/ai-characters/", {"slug": "sales-agent", "name": "Again"}, format="json")
    assert client_for(user).get(form_responses_url()).json() == []
