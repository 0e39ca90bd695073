"""The whole call, played as the widget, the worker and the owner; secrets never leak.

The worker's runtime body (and the LiveKit token it needs no secret for) is the only place
a stored secret leaves the service: every other endpoint, log line, admin page and the raw
database are checked for each one.
"""

import logging

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.urls import reverse
from livekit.api import TokenVerifier

from calls.models import CallSession
from tests.helpers import (
    CALL_LLM_KEY,
    CALL_MCP_SECRET,
    CALL_SESSION_SECRET,
    CALL_TOOL_SECRET,
    LIVEKIT_TEST_SECRET,
    WIDGET_ORIGIN,
    full_character,
    report_url,
    runtime_url,
    start_call,
    worker_client,
)

pytestmark = pytest.mark.usefixtures("calls_settings")
SECRETS = [
    CALL_LLM_KEY,
    CALL_TOOL_SECRET,
    CALL_MCP_SECRET,
    CALL_SESSION_SECRET,
    LIVEKIT_TEST_SECRET,
]


def assert_no_secret(text, where):
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} shown by {where}"


def test_widget_worker_owner_flow_and_no_secret_elsewhere(
    api_client, auth_client, client, make_user, caplog
):
    caplog.set_level(logging.DEBUG)
    slug = full_character(auth_client)
    # The owner lets the page send this session's MCP headers (a page may not by default).
    overrides = {"session_overrides": ["mcp_headers", "metadata"]}
    assert auth_client.patch(f"/api/ai-characters/{slug}/", overrides).status_code == 200

    # The widget starts a call from an allowed page.
    started = start_call(
        api_client,
        agent=slug,
        mcp_headers={"X-Session-Token": CALL_SESSION_SECRET},
        metadata={"visitor": "v-1"},
    )
    assert started.status_code == 200
    call = started.json()
    claims = TokenVerifier("APItestkey", LIVEKIT_TEST_SECRET).verify(call["token"])
    assert claims.video.room == call["room_name"]
    assert claims.room_config.agents[0].agent_name == "oshara-voice-agent"
    session_id = call["session_id"]

    # The worker fetches the runtime with its key: the secrets are there, for it alone.
    worker = worker_client()
    runtime = worker.get(runtime_url(session_id), HTTP_USER_AGENT="oshara-worker/1.0")
    assert runtime.status_code == 200
    runtime_text = runtime.content.decode()
    for secret in (CALL_LLM_KEY, CALL_TOOL_SECRET, CALL_MCP_SECRET, CALL_SESSION_SECRET):
        assert secret in runtime_text
    assert runtime.json()["metadata"] == {"visitor": "v-1"}

    # It reports the call.
    transcript = [
        {"role": "assistant", "text": "Stored greeting.", "turn_index": 0, "ts": 1764608400},
        {"role": "user", "text": "Where is my order?", "turn_index": 1, "ts": 1764608403.2},
        {"role": "assistant", "text": "It ships tomorrow.", "turn_index": 2, "ts": 1764608405},
    ]
    usage = {
        "session_duration_seconds": 42.5,
        "turn_count": 3,
        "interruption_count": 1,
        "llm_input_tokens": 1200,
        "llm_output_tokens": 80,
        "stt_audio_seconds": 20.25,
        "tts_characters": 310,
    }
    reported = worker.post(report_url(session_id), {"usage": usage, "transcript": transcript})
    assert reported.status_code == 200

    # The owner reads it back.
    history = auth_client.get("/api/billing/usage/", {"character_slug": slug}).json()
    assert history["data"]["total_sessions"] == 1
    assert history["data"]["total_tts_characters"] == 310
    [summary] = history["data"]["sessions"]["data"]
    assert summary["session_id"] == session_id and summary["status"] == "ended"
    detail = auth_client.get(f"/api/billing/sessions/{session_id}/").json()["data"]
    assert detail["transcript"] == transcript
    assert detail["session_duration_seconds"] == 42.5

    # Nowhere else: not the session start, the character API, the widget fetch, history...
    pages = {
        "session start": started.content.decode(),
        "report": reported.content.decode(),
        "character": auth_client.get(f"/api/ai-characters/{slug}/").content.decode(),
        "character list": auth_client.get("/api/ai-characters/").content.decode(),
        "appearance": api_client.get(
            f"/api/agents/{slug}/appearance/", HTTP_ORIGIN=WIDGET_ORIGIN
        ).content.decode(),
        "usage": auth_client.get("/api/billing/usage/").content.decode(),
        "session detail": auth_client.get(f"/api/billing/sessions/{session_id}/").content.decode(),
    }
    # ...nor the admin pages of the session and its character.
    client.force_login(make_user(is_staff=True, is_superuser=True))
    session_admin = reverse("admin:calls_callsession_change", args=[quote(session_id)])
    character_pk = CallSession.objects.get(pk=session_id).character_id
    for name, url in {
        "session changelist": reverse("admin:calls_callsession_changelist"),
        "session admin": session_admin,
        "character admin": reverse("admin:characters_character_change", args=[character_pk]),
    }.items():
        response = client.get(url)
        assert response.status_code == 200, name
        pages[name] = response.content.decode()
    assert "Where is my order?" in pages["session admin"]  # the transcript is readable
    assert "X-Session-Token" in pages["session admin"]  # header names, not values
    assert "oshara-worker/1.0" in pages["session admin"]  # the runtime fetch is listed
    assert "Runtime fetches" in pages["session admin"]  # its heading, spelled right
    for where, text in pages.items():
        assert_no_secret(text, where)
    # ...nor a log line.
    assert_no_secret("\n".join(record.getMessage() for record in caplog.records), "the logs")
    # ...nor the raw database row of the session.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM calls_callsession WHERE id = %s", [session_id])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert CALL_SESSION_SECRET not in row and "X-Session-Token" not in row


def test_the_admin_lists_sessions_per_character_with_filters(
    api_client, client, make_user, widget_character, make_character, user
):
    make_character(user, slug="other-bot", allowed_origins=[WIDGET_ORIGIN])
    start_call(api_client)
    start_call(api_client, agent="other-bot")
    client.force_login(make_user(is_staff=True, is_superuser=True))
    url = reverse("admin:calls_callsession_changelist")

    def listed(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return sorted(session.character_slug for session in response.context["cl"].result_list)

    assert listed() == ["other-bot", "shop-helper"]
    assert listed(character__id__exact=widget_character.pk) == ["shop-helper"]
    assert listed(status="running") == ["other-bot", "shop-helper"]
    assert listed(status="ended") == listed(status="expired") == []
    assert listed(q="other") == ["other-bot"]
