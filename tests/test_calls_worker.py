"""The voice worker's endpoints: runtime configuration and report, with AGENT_WORKER_KEY."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calls.api.serializers import RuntimeSerializer
from calls.models import CallSession, RuntimeFetch
from tests.helpers import (
    AGENT_WORKER_TEST_KEY,
    CALL_LLM_KEY,
    CALL_MCP_SECRET,
    CALL_SESSION_SECRET,
    CALL_TOOL_SECRET,
    full_character,
    report_url,
    runtime_url,
    started,
    worker_client,
)

pytestmark = pytest.mark.usefixtures("calls_settings")


def test_runtime_is_the_effective_configuration(auth_client):
    slug = full_character(auth_client)
    # The site's backend, with the owner's credentials: it may override every key.
    session_id = started(
        auth_client,
        slug,
        system_prompt="Session prompt.",
        language="de",
        voice_model="voice-2",
        reference_audio_url="https://voices.example.com/ref.wav",
        mcp_headers={"authorization": CALL_SESSION_SECRET, "X-Session": "s1"},
        metadata={"user": 42},
    )
    response = worker_client().get(runtime_url(session_id))
    assert response.status_code == 200, response.content
    runtime = response.json()
    assert set(runtime) == set(RuntimeSerializer().fields)  # the schema says what is sent
    assert runtime["session_id"] == session_id
    assert runtime["character_slug"] == slug
    assert runtime["system_prompt"] == "Session prompt."
    assert runtime["greeting"] == "Stored greeting."
    assert runtime["language"] == "de"
    assert runtime["llm_provider"] == "openai"
    assert runtime["llm_model"] == "gpt-4o"
    assert runtime["llm_api_key"] == CALL_LLM_KEY
    assert (runtime["stt_model"], runtime["tts_model"]) == ("nova-3", "aura-2")
    assert runtime["voice_model"] == "voice-2"
    assert runtime["voice"]["reference_audio_url"] == "https://voices.example.com/ref.wav"
    assert runtime["voice"]["voice_url"] == "https://voices.example.com/v1.wav"
    assert runtime["background_audio"] == "cafe"
    assert runtime["max_call_seconds"] == 600
    assert runtime["metadata"] == {"user": 42}
    assert runtime["handoff_targets"] == [{"slug": "sales-bot", "name": "Sales Bot"}]

    [server] = runtime["mcp_servers"]  # the inactive one is left out
    assert server["name"] == "crm"
    # The session's header replaces the stored one of the same name (names ignore case).
    assert server["headers"] == {
        "X-Tenant": "acme",
        "authorization": CALL_SESSION_SECRET,
        "X-Session": "s1",
    }
    tools = {tool["name"]: tool for tool in runtime["tools"]}
    assert set(tools) == {"lookup_order", "crm_find"}
    assert tools["lookup_order"]["config"]["headers"] == {"Authorization": CALL_TOOL_SECRET}

    [form] = runtime["forms"]
    assert form["name"] == "lead_form"
    assert form["form_id"] == "lead-form"
    assert form["input_schema"] == {
        "type": "object",
        "properties": {
            "email": {"type": "string", "description": "email"},
            "size": {"type": "string", "enum": ["S", "M"], "description": "size"},
            "newsletter": {"type": "boolean", "description": "newsletter"},
        },
        "required": ["email"],
    }


KB_TOOLS = [
    {"name": "search_docs", "description": "Search the docs.", "kind": "kb", "config": {}},
    {"name": "show_offer", "kind": "client_event", "config": {"topic": "acme.offer"}},
]


def test_kb_tools_search_this_service_when_no_kb_query_url(api_client, auth_client, settings):
    settings.KB_QUERY_API_KEY = "kb-worker-key-0123456789abcdef"
    slug = full_character(auth_client)
    assert auth_client.patch(f"/api/ai-characters/{slug}/", {"tools": KB_TOOLS}).status_code == 200
    runtime = worker_client().get(runtime_url(started(api_client, slug))).json()
    assert runtime["kb_query_url"] == "http://testserver/api/knowledge-base/query/"
    # The session's own search key (tests/test_session_search_key.py), never the service-wide one.
    session_key = runtime["kb_query_api_key"]
    assert session_key.startswith("kbs_") and "kb-worker-key" not in session_key
    tools = {tool["name"]: tool for tool in runtime["tools"]}
    assert tools["search_docs"]["config"] == {
        "url": "http://testserver/api/knowledge-base/query/",
        "api_key": session_key,
        "slug": slug,
    }
    assert set(tools["search_docs"]["input_schema"]["properties"]) == {"query", "top_k"}
    assert tools["show_offer"]["config"] == {"topic": "acme.offer"}


def test_kb_tools_search_the_characters_own_kb_query_url(api_client, auth_client):
    slug = full_character(auth_client)
    body = {
        "tools": KB_TOOLS,
        "kb_query_url": "https://kb.acme.com/search",
        "kb_query_api_key": "acme-kb-secret-42",
    }
    assert auth_client.patch(f"/api/ai-characters/{slug}/", body).status_code == 200
    runtime = worker_client().get(runtime_url(started(api_client, slug))).json()
    assert (runtime["kb_query_url"], runtime["kb_query_api_key"]) == (
        "https://kb.acme.com/search",
        "acme-kb-secret-42",
    )
    [kb] = [tool for tool in runtime["tools"] if tool["kind"] == "kb"]
    assert kb["config"]["url"] == "https://kb.acme.com/search"
    assert kb["config"]["api_key"] == "acme-kb-secret-42"


def test_without_overrides_the_stored_values_apply(api_client, auth_client):
    slug = full_character(auth_client)
    runtime = worker_client().get(runtime_url(started(api_client, slug))).json()
    assert runtime["system_prompt"] == "Stored prompt."
    assert runtime["language"] == "en"
    assert runtime["voice"]["reference_audio_url"] == "https://voices.example.com/v1.wav"
    assert runtime["mcp_servers"][0]["headers"] == {
        "Authorization": CALL_MCP_SECRET,
        "X-Tenant": "acme",
    }


def test_each_fetch_is_recorded(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    client = worker_client()
    client.get(runtime_url(session_id), HTTP_USER_AGENT="oshara-worker/1.0")
    client.get(runtime_url(session_id))
    fetches = RuntimeFetch.objects.filter(session_id=session_id)
    assert fetches.count() == 2
    assert {fetch.user_agent for fetch in fetches} == {"oshara-worker/1.0", ""}
    assert all(fetch.client_address == "127.0.0.1" for fetch in fetches)


@pytest.mark.parametrize("key", [None, "", "wrong", AGENT_WORKER_TEST_KEY + "x", "ключ"])
def test_a_missing_or_wrong_key_is_401(api_client, widget_character, key):
    session_id = started(api_client, "shop-helper")
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    assert client.get(runtime_url(session_id)).status_code == 401
    assert client.post(report_url(session_id), {}).status_code == 401
    assert not RuntimeFetch.objects.exists()


def test_a_users_jwt_is_not_a_worker_key(api_client, auth_client, widget_character):
    session_id = started(api_client, "shop-helper")
    assert auth_client.get(runtime_url(session_id)).status_code == 401


def test_unset_worker_key_turns_the_endpoints_off(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    settings.AGENT_WORKER_KEY = ""
    assert worker_client().get(runtime_url(session_id)).status_code == 404
    assert worker_client().post(report_url(session_id), {}).status_code == 404
    assert APIClient().get(runtime_url(session_id)).status_code == 404


@pytest.mark.parametrize("worker_key", ["", AGENT_WORKER_TEST_KEY])
def test_a_wrong_method_is_405_with_or_without_a_key(
    api_client, widget_character, settings, worker_key
):
    session_id = started(api_client, "shop-helper")
    settings.AGENT_WORKER_KEY = worker_key
    assert APIClient().delete(runtime_url(session_id)).status_code == 405
    assert APIClient().get(report_url(session_id)).status_code == 405


def test_unknown_or_malformed_session_ids_are_404(widget_character):
    client = worker_client()
    assert client.get(runtime_url("sess_" + "0" * 32)).status_code == 404
    assert client.get(runtime_url("sess_nope")).status_code == 404
    assert client.post(report_url("sess_" + "0" * 32), {}).status_code == 404


def test_ended_expired_or_deleted_sessions_are_gone(api_client, widget_character, make_character):
    client = worker_client()
    ended = started(api_client, "shop-helper")
    client.post(report_url(ended), {})
    assert client.get(runtime_url(ended)).status_code == 410
    expired = started(api_client, "shop-helper")
    CallSession.objects.filter(pk=expired).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(runtime_url(expired)).status_code == 410
    orphan = started(api_client, "shop-helper")
    widget_character.delete()
    assert client.get(runtime_url(orphan)).status_code == 410


def test_the_report_ends_the_session_and_a_second_one_replaces_it(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    client = worker_client()
    first = {
        "usage": {"session_duration_seconds": 61.5, "turn_count": 4, "llm_input_tokens": 900},
        "transcript": [
            {"role": "assistant", "text": "Hello!", "turn_index": 0, "ts": 1764590000.5},
            {"role": "user", "text": "Hi.", "turn_index": 1, "ts": "2026-12-01T17:00:01Z"},
        ],
    }
    response = client.post(report_url(session_id), first)
    assert response.status_code == 200, response.content
    session = CallSession.objects.get(pk=session_id)
    ended_at = session.ended_at
    assert ended_at is not None
    assert session.session_duration_seconds == 61.5
    assert session.turn_count == 4 and session.llm_input_tokens == 900
    assert session.tts_characters == 0
    assert len(session.transcript) == 2

    second = {"usage": {"turn_count": 6}, "transcript": [{"role": "user", "text": "Bye."}]}
    assert client.post(report_url(session_id), second).status_code == 200
    session.refresh_from_db()
    assert session.turn_count == 6
    assert session.session_duration_seconds == 0 and session.llm_input_tokens == 0
    assert session.transcript == [{"role": "user", "text": "Bye."}]
    assert session.ended_at == ended_at


def test_a_report_after_the_token_expired_is_accepted(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    CallSession.objects.filter(pk=session_id).update(expires_at=timezone.now())
    assert worker_client().post(report_url(session_id), {"usage": {}}).status_code == 200


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"usage": {"turn_count": -1}}, ["usage", "turn_count"]),
        ({"usage": {"llm_input_tokens": 10**9 + 1}}, ["usage", "llm_input_tokens"]),
        ({"usage": {"turn_count": 1.5}}, ["usage", "turn_count"]),
        ({"usage": {"turn_count": "3"}}, ["usage", "turn_count"]),
        ({"usage": {"turn_count": True}}, ["usage", "turn_count"]),
        ({"usage": {"session_duration_seconds": -0.1}}, ["usage", "session_duration_seconds"]),
        ({"usage": {"session_duration_seconds": 1e300}}, ["usage", "session_duration_seconds"]),
        ({"usage": {"tokens": 1}}, ["usage", "tokens"]),
        ({"usage": []}, ["usage"]),
        ({"transcript": "hello"}, ["transcript"]),
        ({"transcript": [{"role": "robot", "text": "x"}]}, ["transcript", "0", "role"]),
        ({"transcript": [{"role": "user"}]}, ["transcript", "0", "text"]),
        ({"transcript": [{"role": "user", "text": "a\x00b"}]}, ["transcript", "0", "text"]),
        (
            {"transcript": [{"role": "user", "text": "x", "ts": "yesterday"}]},
            ["transcript", "0", "ts"],
        ),
        ({"transcript": [{"role": "user", "text": "x", "ts": -5}]}, ["transcript", "0", "ts"]),
        (
            {"transcript": [{"role": "user", "text": "x", "turn_index": -1}]},
            ["transcript", "0", "turn_index"],
        ),
        (
            {"transcript": [{"role": "user", "text": "x", "mood": "ok"}]},
            ["transcript", "0", "mood"],
        ),
        ({"transcript": [1]}, ["transcript", "0"]),
        ({"summary": "x"}, ["summary"]),
        ({"character_slug": "someone-else"}, ["character_slug"]),
    ],
)
def test_bad_reports_are_400_naming_the_field(api_client, widget_character, body, path):
    session_id = started(api_client, "shop-helper")
    response = worker_client().post(report_url(session_id), body)
    assert response.status_code == 400, response.content
    errors = response.json()
    for key in path:
        assert key in errors, (key, errors)
        errors = errors[key]
    session = CallSession.objects.get(pk=session_id)
    assert session.ended_at is None  # nothing half-saved


def test_a_report_naming_its_own_character_is_accepted(api_client, widget_character):
    session_id = started(api_client, "shop-helper")
    body = {"character_slug": "shop-helper"}
    assert worker_client().post(report_url(session_id), body).status_code == 200


def test_a_ten_thousand_turn_transcript_is_accepted_and_one_more_is_refused(
    api_client, widget_character
):
    session_id = started(api_client, "shop-helper")
    turns = [{"role": "user", "text": f"turn {i}", "turn_index": i} for i in range(10_000)]
    client = worker_client()
    assert client.post(report_url(session_id), {"transcript": turns}).status_code == 200
    assert len(CallSession.objects.get(pk=session_id).transcript) == 10_000
    response = client.post(report_url(session_id), {"transcript": [*turns, turns[0]]})
    assert response.status_code == 400
    assert "10000" in response.json()["transcript"][0]


def test_non_json_and_oversized_reports(api_client, widget_character, settings):
    session_id = started(api_client, "shop-helper")
    client = worker_client()
    response = client.generic(
        "POST", report_url(session_id), "{oops", content_type="application/json"
    )
    assert response.status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        report_url(session_id), {"transcript": [{"role": "user", "text": "x" * 5000}]}
    )
    assert response.status_code == 413
