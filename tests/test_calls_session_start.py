"""POST /api/agents/agent-session/: the Origin gate, overrides, the LiveKit token, limits."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from livekit.api import TokenVerifier

from calls.models import CallSession
from tests.helpers import LIVEKIT_TEST_SECRET, WIDGET_ORIGIN, client_for, start_call

pytestmark = pytest.mark.usefixtures("calls_settings")


def test_start_returns_a_verifiable_livekit_token(api_client, widget_character):
    response = start_call(api_client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "token",
        "livekit_url",
        "room_name",
        "participant_identity",
        "session_id",
        "expires_in_seconds",
        "character_slug",
        "version",
        "system_prompt",
        "greeting",
    }
    assert body["livekit_url"] == "wss://livekit.example.com"
    assert body["session_id"].startswith("sess_")
    assert body["expires_in_seconds"] == 3600
    assert body["character_slug"] == "shop-helper"
    assert body["system_prompt"] == "You help shoppers."
    assert body["greeting"] == "Hello, shopper!"

    claims = TokenVerifier("APItestkey", LIVEKIT_TEST_SECRET).verify(body["token"])
    assert claims.identity == body["participant_identity"]
    assert claims.video.room_join is True
    assert claims.video.room == body["room_name"]
    assert not claims.video.room_create and not claims.video.room_admin
    assert claims.room_config.name == body["room_name"]
    [dispatch] = claims.room_config.agents
    assert dispatch.agent_name == "oshara-voice-agent"
    assert json.loads(dispatch.metadata) == {"session_id": body["session_id"]}
    assert response["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    assert "Origin" in response["Vary"]


def test_token_lifetime_and_agent_name_come_from_settings(api_client, widget_character, settings):
    settings.LIVEKIT_TOKEN_TTL = 120
    settings.LIVEKIT_AGENT_NAME = "custom-agent"
    body = start_call(api_client).json()
    assert body["expires_in_seconds"] == 120
    verifier = TokenVerifier("APItestkey", LIVEKIT_TEST_SECRET)
    claims = verifier.verify(body["token"])
    assert claims.room_config.agents[0].agent_name == "custom-agent"
    import jwt

    raw = jwt.decode(body["token"], LIVEKIT_TEST_SECRET, algorithms=["HS256"], issuer="APItestkey")
    assert raw["exp"] - raw["nbf"] == 120
    session = CallSession.objects.get(pk=body["session_id"])
    assert abs((session.expires_at - session.started_at).total_seconds() - 120) < 1


def test_a_token_signed_with_another_secret_does_not_verify(api_client, widget_character):
    import jwt

    token = start_call(api_client).json()["token"]
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier("APItestkey", "another-secret-0123456789abcdef0123").verify(token)


def test_the_session_is_recorded(api_client, widget_character):
    widget_character.session_overrides = ["language", "greeting", "origin_url", "metadata"]
    widget_character.save()
    body = start_call(
        api_client,
        language="fr",
        greeting="Bonjour !",
        metadata={"page": "/checkout"},
        origin_url="https://shop.example.com/checkout?step=2",
    ).json()
    session = CallSession.objects.get(pk=body["session_id"])
    assert session.character == widget_character
    assert session.character_slug == "shop-helper"
    assert session.owner == widget_character.owner
    assert session.room_name == body["room_name"]
    assert session.participant_identity == body["participant_identity"]
    assert session.origin_url == "https://shop.example.com/checkout?step=2"
    assert session.metadata == {"page": "/checkout"}
    assert session.overrides == {"language": "fr", "greeting": "Bonjour !"}
    assert session.ended_at is None and session.expires_at > timezone.now()
    assert body["greeting"] == "Bonjour !"


def test_origin_url_defaults_to_the_origin_header(api_client, widget_character):
    body = start_call(api_client).json()
    assert CallSession.objects.get(pk=body["session_id"]).origin_url == WIDGET_ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.com.evil.net",
        "http://shop.example.com",
        "https://staging.shop.example.com",
        "https://shop.example.com:8443",
        "null",
    ],
)
def test_other_origins_are_refused_without_a_cors_grant(api_client, widget_character, origin):
    response = start_call(api_client, origin=origin)
    assert response.status_code == 403
    assert "origin" in response.json()["detail"].lower()
    assert "Access-Control-Allow-Origin" not in response
    assert not CallSession.objects.exists()


def test_no_origin_and_no_credentials_is_refused(api_client, widget_character):
    response = start_call(api_client, origin=None)
    assert response.status_code == 403
    assert "Origin" in response.json()["detail"]


def test_the_origin_rule_is_the_appearance_fetch_rule(api_client, widget_character):
    # Same normalisation: default port and case do not matter.
    assert start_call(api_client, origin="HTTPS://Shop.Example.com:443").status_code == 200


def test_the_owner_needs_no_origin(auth_client, widget_character):
    response = start_call(auth_client, origin=None)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_someone_elses_credentials_do_not_replace_the_origin(other_client, widget_character):
    assert start_call(other_client, origin=None).status_code == 403


def test_a_bad_token_is_a_401(api_client, widget_character):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert start_call(api_client).status_code == 401


def test_allow_any_origin_setting_is_honoured(api_client, widget_character, settings):
    settings.WIDGET_ALLOW_ANY_ORIGIN = True
    assert start_call(api_client, origin="http://localhost:5173").status_code == 200
    assert start_call(api_client, origin=None).status_code == 200


def test_unknown_and_inactive_characters_are_404(api_client, widget_character):
    assert start_call(api_client, agent="no-such-agent").status_code == 404
    widget_character.is_active = False
    widget_character.save()
    response = start_call(api_client)
    assert response.status_code == 404
    assert not CallSession.objects.exists()


def test_inactive_is_404_for_the_owner_too(auth_client, widget_character):
    widget_character.is_active = False
    widget_character.save()
    assert start_call(auth_client, origin=None).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "agent"),
        ({"agent": 5}, "agent"),
        ({"agent": "Not A Slug!"}, "agent"),
        ({"agent": "shop-helper", "greting": "typo"}, "greting"),
        ({"agent": "shop-helper", "language": "english please"}, "language"),
        ({"agent": "shop-helper", "language": "en_US"}, "language"),
        (
            {"agent": "shop-helper", "reference_audio_url": "ftp://x.example.com/a.wav"},
            "reference_audio_url",
        ),
        (
            {"agent": "shop-helper", "reference_audio_url": "javascript:alert(1)"},
            "reference_audio_url",
        ),
        ({"agent": "shop-helper", "origin_url": "not a url"}, "origin_url"),
        ({"agent": "shop-helper", "metadata": "a string"}, "metadata"),
        ({"agent": "shop-helper", "metadata": {"blob": "x" * 5000}}, "metadata"),
        ({"agent": "shop-helper", "mcp_headers": {"Bad Header": "v"}}, "mcp_headers"),
        ({"agent": "shop-helper", "mcp_headers": {"X-T": "a\r\nInjected: 1"}}, "mcp_headers"),
        ({"agent": "shop-helper", "mcp_headers": ["not", "an", "object"]}, "mcp_headers"),
        ({"agent": "shop-helper", "system_prompt": 42}, "system_prompt"),
        ({"agent": "shop-helper", "greeting": "g" * 2001}, "greeting"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api_client, widget_character, body, field):
    response = api_client.post("/api/agents/agent-session/", body, HTTP_ORIGIN=WIDGET_ORIGIN)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not CallSession.objects.exists()


def test_a_bad_header_value_is_not_echoed(api_client, widget_character):
    secret = "s3cr3t-value\nX: y"
    response = start_call(api_client, mcp_headers={"Authorization": secret})
    assert response.status_code == 400
    assert "s3cr3t" not in response.content.decode()


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("null", "application/json", 400),
        ("agent=shop-helper", "application/x-www-form-urlencoded", 415),
    ],
)
def test_non_json_bodies_are_4xx(api_client, widget_character, content, content_type, status):
    response = api_client.generic(
        "POST",
        "/api/agents/agent-session/",
        content,
        content_type=content_type,
        HTTP_ORIGIN=WIDGET_ORIGIN,
    )
    assert response.status_code == status


def test_an_oversized_body_is_413(api_client, widget_character, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = start_call(api_client, system_prompt="x" * 20_000)
    assert response.status_code == 413


def test_without_livekit_settings_it_is_503_naming_them(api_client, widget_character, settings):
    settings.LIVEKIT_API_SECRET = ""
    settings.LIVEKIT_URL = ""
    response = start_call(api_client)
    assert response.status_code == 503
    assert "LIVEKIT_URL" in response.json()["detail"]
    assert "LIVEKIT_API_SECRET" in response.json()["detail"]
    assert "LIVEKIT_API_KEY" not in response.json()["detail"]
    assert not CallSession.objects.exists()


def test_the_owner_limit_is_a_429_with_retry_after(api_client, widget_character, settings):
    settings.MAX_CONCURRENT_SESSIONS = 2
    assert start_call(api_client).status_code == 200
    assert start_call(api_client).status_code == 200
    response = start_call(api_client)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "2 sessions" in response.json()["detail"]
    assert CallSession.objects.count() == 2


def test_ended_and_expired_sessions_do_not_count(api_client, widget_character, settings):
    settings.MAX_CONCURRENT_SESSIONS = 1
    first = CallSession.objects.get(pk=start_call(api_client).json()["session_id"])
    first.ended_at = timezone.now()
    first.save()
    second = CallSession.objects.get(pk=start_call(api_client).json()["session_id"])
    second.expires_at = timezone.now()
    second.save()
    assert start_call(api_client).status_code == 200


def test_the_limit_is_per_owner(api_client, widget_character, make_character, other_user, settings):
    settings.MAX_CONCURRENT_SESSIONS = 1
    make_character(other_user, slug="other-bot", allowed_origins=[WIDGET_ORIGIN])
    assert start_call(api_client).status_code == 200
    assert start_call(api_client, agent="other-bot").status_code == 200
    assert start_call(api_client).status_code == 429


def test_sessions_of_a_deleted_character_stop_counting(
    api_client, auth_client, widget_character, make_character, user, settings
):
    settings.MAX_CONCURRENT_SESSIONS = 1
    make_character(user, slug="second-bot", allowed_origins=[WIDGET_ORIGIN])
    first = start_call(api_client).json()["session_id"]
    assert start_call(api_client, agent="second-bot").status_code == 429
    assert auth_client.delete("/api/ai-characters/shop-helper/").status_code == 204
    assert start_call(api_client, agent="second-bot").status_code == 200
    # Its record stays as history, no longer running.
    session = CallSession.objects.get(pk=first)
    assert session.character is None and not session.is_running
    assert not CallSession.objects.running().filter(pk=first).exists()


def test_session_starts_are_throttled_per_ip(api_client, widget_character, settings):
    settings.SESSION_THROTTLE_RATE = "3/minute"
    statuses = [start_call(api_client).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other_ip = api_client.post(
        "/api/agents/agent-session/",
        {"agent": "shop-helper"},
        HTTP_ORIGIN=WIDGET_ORIGIN,
        REMOTE_ADDR="10.9.8.7",
    )
    assert other_ip.status_code == 200


def test_default_throttle_rate_is_30_per_minute():
    from django.conf import settings

    from calls.throttling import SessionStartIPThrottle

    assert SessionStartIPThrottle().get_rate() == settings.SESSION_THROTTLE_RATE
    import oshara.settings as defaults

    assert defaults.SESSION_THROTTLE_RATE == "30/minute"


def test_preflight_grants_the_post(api_client, widget_character):
    response = api_client.options(
        "/api/agents/agent-session/",
        HTTP_ORIGIN=WIDGET_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "content-type"


def test_get_is_405(api_client, widget_character):
    assert api_client.get("/api/agents/agent-session/").status_code == 405


def test_owner_sessions_by_backend_and_auth_client(widget_character, user):
    response = start_call(client_for(user), origin=None, metadata={"crm_id": 7})
    assert response.status_code == 200
    assert CallSession.objects.get().metadata == {"crm_id": 7}


# -- the character as session start reads it: from the widget cache, current after each edit --


def test_each_committed_edit_shows_on_the_next_start(
    api_client, auth_client, widget_character, django_capture_on_commit_callbacks
):
    url = "/api/ai-characters/shop-helper/"
    assert start_call(api_client).json()["system_prompt"] == "You help shoppers."
    edits = [
        ({"system_prompt": "Changed.", "greeting": "Hi again!"}, 200),
        ({"allowed_origins": ["https://elsewhere.example"]}, 403),
        ({"allowed_origins": [WIDGET_ORIGIN], "is_active": False}, 404),
    ]
    for edit, status in edits:
        with django_capture_on_commit_callbacks(execute=True):
            assert auth_client.patch(url, edit, format="json").status_code == 200
        response = start_call(api_client)
        assert response.status_code == status, edit
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.patch(url, {"is_active": True}, format="json").status_code == 200
    body = start_call(api_client).json()
    assert (body["system_prompt"], body["greeting"]) == ("Changed.", "Hi again!")
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(url).status_code == 204
    assert start_call(api_client).status_code == 404


def test_a_warm_start_reads_no_character_row(api_client, widget_character):
    assert start_call(api_client).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert start_call(api_client).status_code == 200
    statements = [query["sql"] for query in queries]
    assert not [sql for sql in statements if "characters_character" in sql], statements
    assert [sql for sql in statements if sql.startswith("INSERT")], statements


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("limit", [0, 3])
def test_a_character_deleted_behind_the_cache_is_a_404(
    api_client, widget_character, settings, limit
):
    """A row removed without the ORM's signals (raw SQL) leaves the cached copy behind: the
    insert's foreign key refuses the session, which is a 404, not a 500, and stores nothing."""
    settings.MAX_CONCURRENT_SESSIONS = limit
    assert start_call(api_client).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM calls_callsession")
        cursor.execute("DELETE FROM characters_character WHERE id = %s", [widget_character.pk])
    response = start_call(api_client)
    assert response.status_code == 404
    assert response.json() == {"detail": "No active character has this slug."}
    assert not CallSession.objects.exists()
