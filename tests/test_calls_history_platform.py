"""History in the platform's exact shapes, fed by the worker's report (issue 29, items 1-2):
every key DESIGN lists, the decimal-string money, tenant_id and version filters, inclusive
bounds, the detail's transcript_text, and bodies valid under the served OpenAPI schema."""

import pytest
from openapi_schema_validator import OAS30Validator

from calls.models import MAX_SESSION_NUMBER, CallSession
from tests.helpers import client_for, report_url, start_call, started, worker_client

pytestmark = pytest.mark.usefixtures("calls_settings")

USAGE = "/api/billing/usage/"
SUMMARY_KEYS = {
    "id",
    "session_id",
    "tenant_id",
    "character_slug",
    "version",
    "user",
    "room_name",
    "origin_url",
    "metadata",
    "session_duration_seconds",
    "turn_count",
    "interruption_count",
    "llm_input_tokens",
    "llm_output_tokens",
    "stt_audio_seconds",
    "tts_characters",
    "llm_model",
    "llm_provider",
    "stt_provider",
    "tts_provider",
    "estimated_cost_usd",
    "finalized_at",
    "recording_status",
    "recording_url",
    "recording_presigned_url",
    "created_at",
}
TOTAL_KEYS = {
    "total_sessions",
    "total_session_duration_seconds",
    "total_llm_input_tokens",
    "total_llm_output_tokens",
    "total_stt_audio_seconds",
    "total_tts_characters",
    "total_estimated_cost_usd",
}
REPORT = {
    "session_duration_seconds": 42.5,
    "turn_count": 2,
    "llm_input_tokens": 1200,
    "llm_output_tokens": 80,
    "stt_audio_seconds": 20.25,
    "tts_characters": 310,
}
RAN = {
    "llm_model": "gpt-4o-mini",
    "llm_provider": "openai",
    "stt_provider": "deepgram",
    "tts_provider": "cartesia",
    "recording_status": "completed",
    "recording_url": "https://recordings.example.com/sess.ogg",
}
TRANSCRIPT = [
    {"role": "assistant", "text": "Hello, shopper!", "turn_index": 0},
    {"role": "user", "text": "Do you ship to Lyon?", "turn_index": 1},
]


@pytest.fixture(scope="module")
def served_schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def validator(schema, path, status="200"):
    response = schema["paths"][path]["get"]["responses"][status]
    body = response["content"]["application/json"]["schema"]
    return OAS30Validator({**body, "components": schema["components"]})


def reported_session(api_client, body):
    session_id = started(api_client, "shop-helper", metadata={"page": "pricing"})
    response = worker_client().post(report_url(session_id), body)
    assert response.status_code == 200, response.content
    return session_id


def test_usage_has_the_platforms_keys_and_validates_against_the_schema(
    api_client, auth_client, widget_character, user, served_schema
):
    session_id = reported_session(api_client, {**REPORT, **RAN, "transcript": TRANSCRIPT})
    response = auth_client.get(USAGE)
    body = response.json()
    assert not list(validator(served_schema, USAGE).iter_errors(body))
    data = body["data"]
    assert set(data) >= TOTAL_KEYS
    assert data["total_sessions"] == 1 and data["total_llm_input_tokens"] == 1200
    assert data["total_stt_audio_seconds"] == 20.25 and data["total_tts_characters"] == 310
    assert set(data["sessions"]) == {"data", "page", "page_size", "total_pages", "total"}
    (summary,) = data["sessions"]["data"]
    assert set(summary) >= SUMMARY_KEYS
    session = CallSession.objects.get(pk=session_id)
    assert summary["id"] == session.number and isinstance(summary["id"], int)
    assert 0 < summary["id"] <= MAX_SESSION_NUMBER
    assert summary["session_id"] == session_id
    assert summary["tenant_id"] == str(user.pk)
    assert summary["version"] is None  # the character has no recorded version
    assert summary["user"] is None  # a visitor's widget started it
    assert summary["metadata"] == {"page": "pricing"}
    assert {key: summary[key] for key in RAN} == RAN
    assert summary["estimated_cost_usd"] == "0.000000"
    assert summary["finalized_at"] is not None
    assert summary["recording_presigned_url"] is None
    assert summary["created_at"] == summary["started_at"]


def test_the_detail_has_the_transcript_and_its_text(
    api_client, auth_client, widget_character, served_schema
):
    session_id = reported_session(api_client, {"usage": REPORT, "transcript": TRANSCRIPT})
    path = "/api/billing/sessions/{session_id}/"
    body = auth_client.get(f"/api/billing/sessions/{session_id}/").json()
    assert not list(validator(served_schema, path).iter_errors(body))
    data = body["data"]
    assert set(data) >= SUMMARY_KEYS
    assert data["transcript"] == TRANSCRIPT
    assert data["transcript_text"] == "Assistant: Hello, shopper!\nUser: Do you ship to Lyon?"
    # the integer id finds it too
    by_number = auth_client.get(f"/api/billing/sessions/{data['id']}/").json()["data"]
    assert by_number["session_id"] == session_id


def test_an_unreported_session_shows_empty_what_ran(api_client, auth_client, widget_character):
    started(api_client, "shop-helper")
    (summary,) = auth_client.get(USAGE).json()["data"]["sessions"]["data"]
    assert summary["finalized_at"] is None
    assert summary["llm_model"] == "" and summary["recording_status"] == ""


def test_a_session_started_with_credentials_names_its_user(auth_client, widget_character, user):
    response = start_call(auth_client, origin=None)
    assert response.status_code == 200, response.content
    (summary,) = auth_client.get(USAGE).json()["data"]["sessions"]["data"]
    assert summary["user"] == user.pk


def test_tenant_id_filters_and_is_never_ignored(
    api_client, auth_client, widget_character, user, other_user, make_user
):
    started(api_client, "shop-helper")

    def total(client, tenant):
        response = client.get(USAGE, {"tenant_id": tenant})
        assert response.status_code == 200, response.content
        return response.json()["data"]["total_sessions"]

    assert total(auth_client, str(user.pk)) == 1
    for other in (str(other_user.pk), f"0{user.pk}", "acme", "-1", "\u0661"):
        assert total(auth_client, other) == 0, other
    # staff see every owner's sessions: the filter picks one owner
    staff = client_for(make_user(is_staff=True))
    assert total(staff, str(user.pk)) == 1
    assert total(staff, str(other_user.pk)) == 0


def test_a_version_filter_matches_no_session_yet(api_client, auth_client, widget_character):
    started(api_client, "shop-helper")
    assert auth_client.get(USAGE, {"version": 1}).json()["data"]["total_sessions"] == 0


def test_money_is_a_six_place_decimal_string(api_client, auth_client, widget_character, settings):
    settings.USAGE_PRICES_USD = {
        "per_session_minute": 0,
        "per_million_llm_input_tokens": 0.15,
        "per_million_llm_output_tokens": 0.6,
        "per_stt_minute": 0,
        "per_million_tts_characters": 0,
    }
    reported_session(api_client, {"llm_input_tokens": 101_573, "llm_output_tokens": 0})
    data = auth_client.get(USAGE).json()["data"]
    # 101573 / 1e6 * 0.15 = 0.01523595, to the micro-dollar
    assert data["total_estimated_cost_usd"] == "0.015236"
    assert data["sessions"]["data"][0]["estimated_cost_usd"] == "0.015236"


# The worker's report


def test_usage_at_the_top_level_equals_usage_nested(api_client, widget_character):
    top = reported_session(api_client, REPORT)
    nested = reported_session(api_client, {"usage": REPORT})
    fields = list(REPORT)
    rows = CallSession.objects.filter(pk__in=[top, nested]).values(*fields)
    assert [dict(row) for row in rows] == [REPORT, REPORT]


def test_usage_at_both_places_is_a_400_and_nothing_is_saved(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    body = {"usage": {"turn_count": 1}, "llm_input_tokens": 5}
    response = worker_client().post(report_url(session_id), body)
    assert response.status_code == 400
    assert "usage" in response.json()
    assert CallSession.objects.get(pk=session_id).ended_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"turn_count": -1}, "turn_count"),
        ({"turn_count": 1.5}, "turn_count"),
        ({"llm_input_tokens": "3"}, "llm_input_tokens"),
        ({"session_duration_seconds": True}, "session_duration_seconds"),
        ({"llm_model": 4}, "llm_model"),
        ({"llm_provider": "x" * 51}, "llm_provider"),
        ({"recording_status": "x" * 33}, "recording_status"),
        ({"recording_url": "ftp://example.com/a.ogg"}, "recording_url"),
        ({"recording_url": "not a url"}, "recording_url"),
    ],
)
def test_bad_top_level_report_fields_are_400_naming_them(api_client, widget_character, body, field):
    session_id = started(api_client, "shop-helper")
    response = worker_client().post(report_url(session_id), body)
    assert response.status_code == 400
    assert field in response.json()
    assert CallSession.objects.get(pk=session_id).ended_at is None


def test_a_second_report_replaces_what_ran(api_client, widget_character):
    session_id = reported_session(api_client, RAN)
    client = worker_client()
    assert client.post(report_url(session_id), {"llm_model": "gpt-4o"}).status_code == 200
    session = CallSession.objects.get(pk=session_id)
    assert session.llm_model == "gpt-4o"
    assert session.llm_provider == "" and session.recording_url == ""
