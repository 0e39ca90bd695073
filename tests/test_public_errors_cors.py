"""Errors of the widget's public paths are readable by the page that asked (issue 29, item 7).

The widget must read an error's detail and a 429's Retry-After, so every error about a
character carries the CORS grant for one of its allowed origins (and exposes Retry-After);
a throttle's 429 is granted before any lookup, as the appearance's always was. A 403 (the
origin is not allowed) and a 404 (no such active character) never are.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.helpers import (
    ACME_ORIGIN,
    WIDGET_ORIGIN,
    form_responses_url,
    start_call,
    submit_form,
)

pytestmark = pytest.mark.usefixtures("form_settings")
EVIL = "https://evil.example.net"


def book_demo(session_id, **values):
    values = {"name": "Ada Lovelace", "email": "ada@example.com", **values}
    return {"form_id": "book-demo", "session_id": session_id, "values": values}


def assert_readable(response, origin, status):
    assert response.status_code == status, response.content
    assert response["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response["Vary"]
    if status == 429:
        assert int(response["Retry-After"]) >= 1
        assert response["Access-Control-Expose-Headers"] == "Retry-After"


def assert_not_granted(response, status):
    assert response.status_code == status, response.content
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]


# form submission


def test_the_form_response_429s_are_readable_by_the_allowed_origin(
    api_client, sales_session, settings
):
    settings.FORM_RESPONSE_SESSION_THROTTLE_RATE = "1/minute"
    assert submit_form(api_client, book_demo(sales_session)).status_code == 201
    assert_readable(submit_form(api_client, book_demo(sales_session)), ACME_ORIGIN, 429)
    settings.FORM_RESPONSE_SESSION_THROTTLE_RATE = "100000/minute"
    settings.FORM_RESPONSE_THROTTLE_RATE = "1/minute"
    first = submit_form(api_client, book_demo(sales_session), REMOTE_ADDR="10.0.0.9")
    assert first.status_code == 201
    by_address = submit_form(api_client, book_demo(sales_session), REMOTE_ADDR="10.0.0.9")
    assert_readable(by_address, ACME_ORIGIN, 429)


def test_form_response_errors_about_the_character_are_readable(api_client, sales_session, settings):
    bad_value = submit_form(api_client, book_demo(sales_session, email="not-an-email"))
    assert_readable(bad_value, ACME_ORIGIN, 400)
    unknown_form = submit_form(
        api_client, {"form_id": "nope", "session_id": sales_session, "values": {}}
    )
    assert_readable(unknown_form, ACME_ORIGIN, 400)
    malformed = api_client.post(
        form_responses_url(), "{not json", content_type="application/json", HTTP_ORIGIN=ACME_ORIGIN
    )
    assert_readable(malformed, ACME_ORIGIN, 400)
    settings.FORM_RESPONSE_MAX_BYTES = 100
    too_large = submit_form(api_client, book_demo(sales_session, name="x" * 200))
    assert_readable(too_large, ACME_ORIGIN, 413)


def test_form_response_refusals_grant_no_other_origin(api_client, sales_session):
    assert_not_granted(submit_form(api_client, book_demo(sales_session), origin=EVIL), 403)
    ghost = submit_form(api_client, book_demo(sales_session), slug="ghost")
    assert_not_granted(ghost, 404)


# session start


def test_session_start_errors_are_readable_by_the_allowed_origin(
    api_client, widget_character, settings
):
    assert_readable(start_call(api_client, system_prompt=5), WIDGET_ORIGIN, 400)
    assert_readable(start_call(api_client, favourite="x"), WIDGET_ORIGIN, 400)
    settings.LIVEKIT_URL = ""
    assert_readable(start_call(api_client), WIDGET_ORIGIN, 503)


def test_session_start_429s_are_readable(api_client, widget_character, settings):
    settings.MAX_CONCURRENT_SESSIONS = 1
    assert start_call(api_client).status_code == 200
    assert_readable(start_call(api_client), WIDGET_ORIGIN, 429)  # the owner's limit
    settings.SESSION_THROTTLE_RATE = "1/minute"
    browser = APIClient(REMOTE_ADDR="10.0.0.7")
    assert "sessions running" in start_call(browser).json()["detail"]  # the limit, counted
    throttled = start_call(browser)
    assert_readable(throttled, WIDGET_ORIGIN, 429)
    assert throttled.json()["detail"].startswith("Request was throttled")


def test_session_start_errors_grant_no_other_origin(api_client, widget_character):
    assert_not_granted(start_call(api_client, system_prompt=5, origin=EVIL), 400)
    assert_not_granted(start_call(api_client, origin=EVIL), 403)
    assert_not_granted(start_call(api_client, agent="ghost"), 404)


# the appearance fetch


def test_appearance_refusals_grant_no_other_origin(widget_character):
    url = f"/api/agents/{widget_character.slug}/appearance/"
    refused = Client().get(url, HTTP_ORIGIN=EVIL)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    missing = Client().get("/api/agents/ghost/appearance/", HTTP_ORIGIN=WIDGET_ORIGIN)
    assert missing.status_code == 404 and "Access-Control-Allow-Origin" not in missing
