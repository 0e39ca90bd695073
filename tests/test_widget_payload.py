"""The body of GET /api/agents/{slug}/appearance/: the merged appearance itself, flat.

The expected objects are written out in full (not built from the defaults module), so a
default that drifts from the platform's documented value fails here.
"""

import copy

import pytest
from django.test import Client

from tests.reference import SALES_AGENT, SUPPORT_BOT

ACME = "https://acme.com"
API = "/api/ai-characters/"

THEME = {
    "primary_color": "#6366F1",
    "accent_color": "#22D3EE",
    "background_color": "#FFFFFF",
    "text_color": "#0F172A",
    "user_bubble_color": "#6366F1",
    "user_bubble_text_color": "#FFFFFF",
    "agent_bubble_color": "#F1F5F9",
    "agent_bubble_text_color": "#0F172A",
}
FRESH = {
    "name": "Voice Assistant",
    "subtitle": "",
    "logo_url": "",
    "fab_label": "",
    "fab_sublabel": "",
    "start_button_text": "Start Call",
    "powered_by_text": "Powered by Oshara",
    "powered_by_url": "https://oshara.ai",
    "max_call_seconds": 0,
    "terms_url": "",
    "terms_label": "Terms & Conditions",
    "consent_text": "By starting the call you agree to our",
    "show_audio_settings": True,
    "default_language": "en",
    "theme": THEME,
    "dimensions": {"fab_size": 64, "panel_width": 380, "panel_height": 620, "border_radius": 24},
    "layout": {"position": "bottom-right", "font_family": "Inter, sans-serif"},
    "labels": {
        "idle": "Idle",
        "connecting": "Connecting\u2026",
        "listening": "Listening",
        "speaking": "Speaking\u2026",
        "muted": "Microphone muted",
        "call_ended": "Call ended",
        "transcript_placeholder": "Your conversation will appear here",
        "language_label": "Language",
    },
    "languages": [{"code": "en", "label": "English", "native_label": "English"}],
    "forms": [],
}


def fetch(slug, origin=ACME):
    return Client().get(f"/api/agents/{slug}/appearance/", HTTP_ORIGIN=origin)


@pytest.mark.django_db
def test_a_fresh_character_answers_every_default_flat(auth_client):
    created = auth_client.post(API, {**SUPPORT_BOT, "system_prompt": "SECRET-PROMPT"})
    assert created.status_code == 201
    response = fetch("support-bot")
    assert response.status_code == 200
    assert response.json() == FRESH
    assert "…" in response.content.decode()  # one character, sent as UTF-8, not escaped


@pytest.mark.django_db
def test_the_sales_agent_example_answers_its_overrides_merged(auth_client):
    assert auth_client.post(API, SUPPORT_BOT).status_code == 201
    assert auth_client.post(API, SALES_AGENT).status_code == 201
    expected = copy.deepcopy(FRESH)
    expected["name"] = "Acme Sales"
    expected["theme"]["primary_color"] = "#FF6B35"
    expected["forms"] = [
        {
            "id": "book-demo",
            "title": "Book a demo",
            "subtitle": "",
            "submit_url": None,
            "submit_method": "POST",
            "submit_label": "Submit",
            "success_message": "Thank you! Your submission has been received.",
            "disabled": False,
            "topics": [],
            "event_types": [],
            "confirmation_topic": "voice.user_text",
            "confirmation_type": "book-demo_submitted",
            "layout": {"field_layout": "stack"},
            "fields": [
                {
                    "name": "name",
                    "label": "Your name",
                    "type": "text",
                    "required": True,
                    "placeholder": "",
                    "width": "full",
                },
                {
                    "name": "email",
                    "label": "Work email",
                    "type": "email",
                    "required": True,
                    "placeholder": "",
                    "width": "full",
                },
            ],
        }
    ]
    response = fetch("sales-agent")
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.django_db
def test_nothing_but_the_appearance_is_in_the_body(auth_client, user, make_character):
    make_character(user, slug="billing")
    body = {
        **SALES_AGENT,
        "handoff_targets": [{"slug": "billing"}],
        "system_prompt": "SECRET-PROMPT-TEXT",
        "greeting": "GREETING-TEXT",
        "llm_api_key": "sk-SECRET-LLM-KEY",
        "kb_query_url": "https://kb.acme.com/search",
        "kb_query_api_key": "kb-SECRET-QUERY-KEY",
        "tools": [
            {"name": "notify", "kind": "client_event", "config": {"topic": "acme.notify"}},
            {"name": "lookup", "kind": "kb", "config": {}},
        ],
    }
    assert auth_client.post(API, body).status_code == 201
    raw = fetch("sales-agent").content.decode()
    assert set(fetch("sales-agent").json()) == set(FRESH)
    for private in (
        "SECRET",
        "GREETING-TEXT",
        "Sales Assistant",  # the character's own name: `name` is the appearance's
        "sales-agent",
        "billing",
        "kb.acme.com",
        "acme.notify",
        "allowed_origins",
        user.email,
        "gpt-4o",
    ):
        assert private not in raw


@pytest.mark.django_db
def test_form_steps_and_pre_fills_reach_the_widget(auth_client):
    form = {
        "id": "callback",
        "title": "Call me back",
        "steps": [
            {
                "id": "who",
                "title": "Who",
                "fields": [{"name": "name", "default_value": "Ada"}],
            },
            {
                "title": "When",
                "fields": [
                    {
                        "name": "slot",
                        "type": "select",
                        "options": ["morning", "evening"],
                        "default_value": "evening",
                    },
                    {"name": "agree", "type": "checkbox", "default_value": False},
                ],
            },
        ],
    }
    body = {**SUPPORT_BOT, "widget_appearance": {"forms": [form]}}
    assert auth_client.post(API, body).status_code == 201
    fetched = fetch("support-bot").json()["forms"][0]
    who, when = fetched["steps"]
    assert who["id"] == "who"
    assert "id" not in when
    assert who["fields"][0]["default_value"] == "Ada"
    assert who["fields"][0]["label"] == "name"
    assert when["fields"][0]["default_value"] == "evening"
    assert when["fields"][1]["default_value"] is False
    stored = auth_client.get(f"{API}support-bot/").json()["widget_appearance"]["forms"][0]
    assert stored == form  # the overrides stored and returned exactly as sent


@pytest.mark.django_db
def test_the_owners_languages_replace_the_default_list(auth_client):
    languages = [
        {"code": "fr", "label": "French", "native_label": "Français"},
        {"code": "en", "label": "English"},
    ]
    body = {**SUPPORT_BOT, "widget_appearance": {"languages": languages}}
    assert auth_client.post(API, body).status_code == 201
    assert fetch("support-bot").json()["languages"] == languages


# Inactive characters.


@pytest.mark.django_db
def test_an_inactive_character_is_a_404_and_its_owner_still_manages_it(
    auth_client, django_capture_on_commit_callbacks
):
    assert auth_client.post(API, SUPPORT_BOT).json()["is_active"] is True
    assert fetch("support-bot").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(f"{API}support-bot/", {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    gone = fetch("support-bot")
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Not found."}
    assert "Access-Control-Allow-Origin" not in gone
    # Exactly like an unknown slug, preflight included.
    preflight = Client().options("/api/agents/support-bot/appearance/", HTTP_ORIGIN=ACME)
    assert preflight.status_code == 404

    assert auth_client.get(f"{API}support-bot/").json()["is_active"] is False
    assert [c["slug"] for c in auth_client.get(API).json()] == ["support-bot"]
    edited = auth_client.patch(f"{API}support-bot/", {"greeting": "Still mine"})
    assert edited.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.patch(f"{API}support-bot/", {"is_active": True})
    assert fetch("support-bot").status_code == 200


@pytest.mark.django_db
def test_put_makes_the_character_active_again(auth_client):
    auth_client.post(API, {**SUPPORT_BOT, "is_active": False})
    assert fetch("support-bot").status_code == 404
    response = auth_client.put(f"{API}support-bot/", {"slug": "support-bot", "name": "Bot"})
    assert response.json()["is_active"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["false", 0, None, "no"])
def test_is_active_takes_only_a_boolean(auth_client, value):
    response = auth_client.post(API, {**SUPPORT_BOT, "is_active": value})
    assert response.status_code == 400
    assert set(response.json()) == {"is_active"}


@pytest.mark.django_db
def test_is_active_in_a_multipart_request_is_json_text(auth_client):
    auth_client.post(API, SUPPORT_BOT)
    url = f"{API}support-bot/"
    response = auth_client.patch(url, {"is_active": "false"}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    refused = auth_client.patch(url, {"is_active": "off"}, format="multipart")
    assert refused.status_code == 400
    assert set(refused.json()) == {"is_active"}
