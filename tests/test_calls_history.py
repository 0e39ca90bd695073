"""The owner's history: GET /api/billing/usage/ and GET /api/billing/sessions/{id}/."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import CallSession
from tests.helpers import client_for

USAGE = "/api/billing/usage/"


@pytest.fixture
def make_session(db):
    def make(character, started_at=None, **fields):
        started_at = started_at or timezone.now()
        return CallSession.objects.create(
            character=character,
            character_slug=character.slug,
            owner=character.owner,
            room_name=f"{character.slug}-room",
            participant_identity="visitor-1",
            started_at=started_at,
            expires_at=started_at + timedelta(hours=1),
            **fields,
        )

    return make


def test_usage_is_enveloped_with_totals_and_summaries(auth_client, character, make_session):
    make_session(character, session_duration_seconds=30, turn_count=2, llm_input_tokens=100)
    make_session(character, session_duration_seconds=90.5, turn_count=5, llm_output_tokens=7)
    response = auth_client.get(USAGE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "message", "data", "errors"}
    assert body["success"] is True and body["errors"] is None
    data = body["data"]
    assert data["total_sessions"] == 2
    assert data["total_session_duration_seconds"] == 120.5
    assert data["total_turn_count"] == 7
    assert data["total_llm_input_tokens"] == 100 and data["total_llm_output_tokens"] == 7
    assert data["total_stt_audio_seconds"] == 0 and data["total_tts_characters"] == 0
    assert data["total_estimated_cost_usd"] == "0.000000"
    page = data["sessions"]
    sessions = page["data"]
    assert [s["turn_count"] for s in sessions] == [5, 2]  # newest first
    assert "transcript" not in sessions[0]
    assert sessions[0]["status"] == "running"
    assert (page["page"], page["page_size"], page["total_pages"], page["total"]) == (1, 50, 1, 2)


def test_estimated_cost_uses_the_unit_prices(auth_client, character, make_session, settings):
    settings.USAGE_PRICES_USD = {
        "per_session_minute": 0.01,
        "per_million_llm_input_tokens": 0.15,
        "per_million_llm_output_tokens": 0.6,
        "per_stt_minute": 0.0043,
        "per_million_tts_characters": 15.0,
    }
    make_session(
        character,
        session_duration_seconds=120,
        llm_input_tokens=1_000_000,
        llm_output_tokens=500_000,
        stt_audio_seconds=60,
        tts_characters=2000,
    )
    data = auth_client.get(USAGE).json()["data"]
    # 0.02 + 0.15 + 0.3 + 0.0043 + 0.03, a decimal string with 6 places, never a float
    assert data["total_estimated_cost_usd"] == "0.504300"
    assert data["sessions"]["data"][0]["estimated_cost_usd"] == "0.504300"


def test_filters(auth_client, character, make_character, user, make_session):
    other = make_character(user, slug="other-bot")
    day = timezone.now().replace(
        year=2026, month=3, day=10, hour=12, minute=0, second=0, microsecond=0
    )
    make_session(character, started_at=day - timedelta(days=2))
    make_session(character, started_at=day)
    make_session(other, started_at=day)

    def count(**params):
        response = auth_client.get(USAGE, params)
        assert response.status_code == 200, response.content
        return response.json()["data"]["total_sessions"]

    assert count() == 3
    assert count(character_slug="support-bot") == 2
    assert count(character_slug="other-bot") == 1
    assert count(character_slug="nobody") == 0
    assert count(start="2026-03-10") == 2
    assert count(end="2026-03-09") == 1  # a date covers its whole day
    assert count(end="2026-03-10") == 3
    assert count(start="2026-03-08", end="2026-03-08") == 1
    assert count(start="2026-03-10T12:00:00Z", end="2026-03-10T12:00:01+00:00") == 2
    # both bounds are inclusive: a session created exactly at `end` is counted
    assert count(start="2026-03-10T12:00:00Z", end="2026-03-10T12:00:00Z") == 2
    assert count(end="2026-03-10T11:59:59.999999Z") == 1


def test_paging(auth_client, character, make_session):
    for index in range(5):
        make_session(
            character, turn_count=index, started_at=timezone.now() - timedelta(minutes=index)
        )
    data = auth_client.get(USAGE, {"page_size": 2, "page": 2}).json()["data"]
    assert [s["turn_count"] for s in data["sessions"]["data"]] == [2, 3]
    assert data["sessions"]["total_pages"] == 3 and data["sessions"]["total"] == 5
    assert data["total_sessions"] == 5
    beyond = auth_client.get(USAGE, {"page_size": 2, "page": 9}).json()["data"]
    assert beyond["sessions"]["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page": 10**30}, "page"),
        ({"page_size": 201}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-13-40"}, "end"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"version": "x"}, "version"),
        ({"tenant_id": "x" * 65}, "tenant_id"),
    ],
)
def test_bad_parameters_are_400_in_the_envelope(auth_client, params, field):
    response = auth_client.get(USAGE, params)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["data"] is None
    assert field in body["errors"]


def test_nul_in_a_parameter_is_refused_before_the_view(auth_client):
    # The API-wide guard (oshara/http/errors.py) answers before any view runs: 400 naming it.
    response = auth_client.get(USAGE, {"character_slug": "a\x00b"})
    assert response.status_code == 400
    assert "character_slug" in response.json()


def test_totals_are_one_aggregate_query(auth_client, character, make_session):
    for _ in range(3):
        make_session(character, turn_count=1)

    def sum_queries():
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.get(USAGE).status_code == 200
        return [q["sql"] for q in queries if "SUM(" in q["sql"].upper()], len(queries)

    aggregates, total_three = sum_queries()
    assert len(aggregates) == 1
    for _ in range(10):
        make_session(character, turn_count=1)
    aggregates, total_thirteen = sum_queries()
    assert len(aggregates) == 1
    assert total_thirteen == total_three  # does not grow with the number of sessions


def test_only_the_callers_sessions(auth_client, other_client, character, make_session):
    mine = make_session(character)
    assert other_client.get(USAGE).json()["data"]["total_sessions"] == 0
    response = other_client.get(f"/api/billing/sessions/{mine.id}/")
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert auth_client.get(f"/api/billing/sessions/{mine.id}/").status_code == 200


def test_staff_see_every_session(make_user, character, make_session):
    session = make_session(character)
    staff = client_for(make_user(is_staff=True))
    assert staff.get(USAGE).json()["data"]["total_sessions"] == 1
    assert staff.get(f"/api/billing/sessions/{session.id}/").status_code == 200


def test_history_needs_credentials(api_client, character, make_session):
    session = make_session(character)
    response = api_client.get(USAGE)
    assert response.status_code == 401
    assert response.json()["success"] is False
    assert api_client.get(f"/api/billing/sessions/{session.id}/").status_code == 401


def test_session_detail_has_the_transcript_and_masks_headers(auth_client, character, make_session):
    session = make_session(
        character,
        transcript=[{"role": "user", "text": "Hi", "turn_index": 0}],
        overrides={"language": "fr"},
        mcp_headers={"Authorization": "very-secret-header"},
        metadata={"k": "v"},
    )
    response = auth_client.get(f"/api/billing/sessions/{session.id}/")
    data = response.json()["data"]
    assert data["session_id"] == session.id
    assert data["transcript"] == [{"role": "user", "text": "Hi", "turn_index": 0}]
    assert data["overrides"] == {"language": "fr", "mcp_headers": {"Authorization": "********"}}
    assert data["metadata"] == {"k": "v"}
    assert "very-secret-header" not in response.content.decode()


def test_deleted_characters_keep_their_history(auth_client, character, make_session):
    session = make_session(character, turn_count=3)
    character.delete()
    session.refresh_from_db()
    assert session.character is None and session.character_slug == "support-bot"
    data = auth_client.get(USAGE, {"character_slug": "support-bot"}).json()["data"]
    assert data["total_turn_count"] == 3
    assert auth_client.get(f"/api/billing/sessions/{session.id}/").status_code == 200


@pytest.mark.parametrize("session_id", [f"sess_{'a' * 32}", "not-an-id", "%C2%84", "a%00b"])
def test_unknown_session_is_404_in_the_envelope(auth_client, session_id):
    response = auth_client.get(f"/api/billing/sessions/{session_id}/")
    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.django_db
def test_every_session_index_serves_a_query():
    """Each session start writes every index of its table: one per query the history, the
    limit and the cascades make (a LIKE copy of the slug, or the owner alone, which both owner
    indexes start with, would only slow the insert)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CallSession._meta.db_table)
    indexed = sorted(
        tuple(found["columns"])
        for found in constraints.values()
        if found["index"] and not found["primary_key"] and found["columns"] != ["id"]
    )
    assert indexed == [
        ("character_id",),
        ("character_slug",),
        ("owner_id", "expires_at"),
        ("owner_id", "started_at"),
    ]
