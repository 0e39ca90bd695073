"""The /api/ai-characters/ contract: CRUD, ownership, listing, PUT and PATCH semantics."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters.models import Character, HandoffTarget
from tests.reference import SALES_AGENT, SUPPORT_BOT

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"

RESPONSE_FIELDS = {
    "slug",
    "name",
    "character_type",
    "image",
    "system_prompt",
    "greeting",
    "voice",
    "language",
    "background_audio",
    "allowed_origins",
    "handoff_targets",
    "widget_appearance",
    "stt_model",
    "tts_model",
    "llm_provider",
    "llm_model",
    "has_llm_api_key",
    "kb_query_url",
    "has_kb_query_api_key",
    "is_active",
    "session_overrides",
    "tools",
    "mcp_servers",
    "documents",
    "version",
    "publishing",
    "published_version",
    "has_unpublished_changes",
    "created_at",
    "updated_at",
}


def detail(slug):
    return f"{URL}{slug}/"


def test_reference_create_example(auth_client, user):
    response = auth_client.post(URL, SUPPORT_BOT)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    for key, value in SUPPORT_BOT.items():
        assert body[key] == value
    assert body["llm_provider"] == "openai"
    assert body["voice"] == {"audio_file": None, "voice_url": ""}
    assert body["handoff_targets"] == []
    assert body["widget_appearance"] == {}
    assert body["documents"] == []
    assert body["has_llm_api_key"] is False
    assert body["kb_query_url"] == ""
    assert body["has_kb_query_api_key"] is False
    assert body["is_active"] is True
    assert Character.objects.get(slug="support-bot").owner == user


def test_reference_full_sales_agent_example(auth_client):
    auth_client.post(URL, SUPPORT_BOT)
    response = auth_client.post(URL, SALES_AGENT)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["handoff_targets"] == [{"slug": "support-bot", "name": "Support Bot"}]
    assert body["widget_appearance"] == SALES_AGENT["widget_appearance"]
    assert body["background_audio"] == "office"
    assert auth_client.get(detail("sales-agent")).json() == body


def test_reference_retrieve_patch_delete_examples(auth_client):
    auth_client.post(URL, SUPPORT_BOT)
    assert auth_client.get(detail("support-bot")).json()["name"] == "Support Bot"

    origins = ["https://acme.com", "https://staging.acme.com"]
    response = auth_client.patch(detail("support-bot"), {"allowed_origins": origins})
    assert response.status_code == 200
    assert response.json()["allowed_origins"] == origins
    assert response.json()["greeting"] == SUPPORT_BOT["greeting"]

    assert auth_client.delete(detail("support-bot")).status_code == 204
    assert auth_client.get(detail("support-bot")).status_code == 404
    assert not Character.objects.exists()


def test_list_is_a_plain_array_newest_first(auth_client, user, make_character):
    for slug in ("first", "second", "third"):
        make_character(user, slug=slug)
    response = auth_client.get(URL)
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()] == ["third", "second", "first"]
    assert "X-Total-Count" not in response


def test_list_pagination_headers(auth_client, user, make_character):
    for index in range(5):
        make_character(user, slug=f"c{index}")
    response = auth_client.get(URL, {"limit": 2, "offset": 2})
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()] == ["c2", "c1"]
    assert response["X-Total-Count"] == "5"
    assert 'rel="next"' in response["Link"] and 'rel="prev"' in response["Link"]
    assert "offset=4" in response["Link"]
    last_page = auth_client.get(URL, {"limit": 2, "offset": 4})
    assert [c["slug"] for c in last_page.json()] == ["c0"]
    assert 'rel="next"' not in last_page["Link"]


def test_list_filters_by_type_and_search(auth_client, user, make_character):
    make_character(user, slug="host", name="Morning Show", character_type="PODCAST_HOST")
    make_character(user, slug="helper", name="Helpdesk", character_type="SUPPORT_AGENT")
    by_type = auth_client.get(URL, {"character_type": "PODCAST_HOST"}).json()
    assert [c["slug"] for c in by_type] == ["host"]
    by_name = auth_client.get(URL, {"search": "helpdesk"}).json()
    assert [c["slug"] for c in by_name] == ["helper"]
    by_slug = auth_client.get(URL, {"search": "HOS"}).json()
    assert [c["slug"] for c in by_slug] == ["host"]


def test_list_rejects_unknown_character_type_filter(auth_client):
    response = auth_client.get(URL, {"character_type": "WIZARD"})
    assert response.status_code == 400
    assert "character_type" in response.json()


def test_list_shows_only_own_characters(auth_client, user, other_user, make_character):
    make_character(user, slug="mine")
    make_character(other_user, slug="theirs")
    assert [c["slug"] for c in auth_client.get(URL).json()] == ["mine"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_someone_elses_character_is_404(other_client, character, method):
    payload = {"slug": character.slug, "name": "Hijacked"}
    response = getattr(other_client, method)(detail(character.slug), payload)
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}
    character.refresh_from_db()
    assert character.name == "Support Bot"


@pytest.mark.parametrize("method", ["get", "post"])
def test_list_and_create_need_a_token(api_client, method):
    response = getattr(api_client, method)(URL, SUPPORT_BOT)
    assert response.status_code == 401
    assert not Character.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_detail_needs_a_token(api_client, character, method):
    assert getattr(api_client, method)(detail(character.slug), {}).status_code == 401


def test_slug_is_globally_unique(auth_client, other_user, make_character):
    make_character(other_user, slug="support-bot")
    response = auth_client.post(URL, SUPPORT_BOT)
    assert response.status_code == 400
    assert "slug" in response.json()


def test_slug_cannot_change(auth_client, character):
    response = auth_client.patch(detail(character.slug), {"slug": "renamed"})
    assert response.status_code == 400
    assert "slug" in response.json()
    put = auth_client.put(detail(character.slug), {"slug": "renamed", "name": "X"})
    assert put.status_code == 400
    assert "slug" in put.json()
    assert Character.objects.filter(slug="support-bot").exists()


def test_put_with_same_slug_is_allowed(auth_client, character):
    response = auth_client.put(detail(character.slug), {"slug": "support-bot", "name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_put_requires_slug_and_name(auth_client, character):
    response = auth_client.put(detail(character.slug), {"greeting": "hi"})
    assert response.status_code == 400
    assert set(response.json()) == {"slug", "name"}


def test_put_resets_omitted_fields_to_defaults(auth_client, user, make_character):
    make_character(user, slug="target")
    auth_client.post(URL, {**SALES_AGENT, "handoff_targets": [{"slug": "target"}]})
    auth_client.patch(detail("sales-agent"), {"llm_api_key": "sk-keep-me", "stt_model": "w"})
    response = auth_client.put(detail("sales-agent"), {"slug": "sales-agent", "name": "Only"})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Only"
    assert body["system_prompt"] == ""
    assert body["greeting"] == ""
    assert body["llm_model"] == "gpt-4o-mini"
    assert body["background_audio"] == ""
    assert body["allowed_origins"] == []
    assert body["handoff_targets"] == []
    assert body["widget_appearance"] == {}
    assert body["stt_model"] == ""
    assert body["language"] == "en"
    # The key cannot be round-tripped, so PUT keeps it unless it is sent.
    assert body["has_llm_api_key"] is True


def test_full_object_round_trips_through_put(auth_client):
    auth_client.post(URL, SUPPORT_BOT)
    created = auth_client.post(URL, SALES_AGENT).json()
    response = auth_client.put(detail("sales-agent"), created)
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert {k: v for k, v in updated.items() if k != "updated_at"} == {
        k: v for k, v in created.items() if k != "updated_at"
    }


def test_patch_changes_only_what_it_sends(auth_client):
    auth_client.post(URL, SUPPORT_BOT)
    auth_client.post(URL, SALES_AGENT)
    response = auth_client.patch(detail("sales-agent"), {"greeting": "Hello!"})
    body = response.json()
    assert body["greeting"] == "Hello!"
    assert body["handoff_targets"] == [{"slug": "support-bot", "name": "Support Bot"}]
    assert body["widget_appearance"] == SALES_AGENT["widget_appearance"]
    assert body["system_prompt"] == SALES_AGENT["system_prompt"]


def test_unknown_fields_are_rejected_by_name(auth_client, character):
    response = auth_client.patch(detail(character.slug), {"greting": "typo", "colour": "x"})
    assert response.status_code == 400
    assert response.json() == {"colour": ["Unknown field."], "greting": ["Unknown field."]}
    created = auth_client.post(URL, {**SUPPORT_BOT, "slug": "new", "extra": 1})
    assert created.status_code == 400
    assert "extra" in created.json()


def test_read_only_fields_sent_back_are_ignored(auth_client, character):
    response = auth_client.patch(
        detail(character.slug),
        {
            "has_llm_api_key": True,
            "documents": [{"id": 1}],
            "created_at": "2000-01-01T00:00:00Z",
            "updated_at": "2000-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["has_llm_api_key"] is False
    assert body["documents"] == []
    assert not body["created_at"].startswith("2000")


def test_handoff_targets_keep_order_and_show_names(auth_client, user, make_character):
    make_character(user, slug="b", name="Bee")
    make_character(user, slug="a", name="Ay")
    make_character(user, slug="c", name="Cee")
    payload = {**SUPPORT_BOT, "handoff_targets": [{"slug": "c"}, {"slug": "a"}, {"slug": "b"}]}
    response = auth_client.post(URL, payload)
    assert response.status_code == 201, response.json()
    assert response.json()["handoff_targets"] == [
        {"slug": "c", "name": "Cee"},
        {"slug": "a", "name": "Ay"},
        {"slug": "b", "name": "Bee"},
    ]
    reordered = auth_client.patch(detail("support-bot"), {"handoff_targets": [{"slug": "b"}]})
    assert reordered.json()["handoff_targets"] == [{"slug": "b", "name": "Bee"}]


def test_deleting_a_character_removes_it_from_handoff_lists(auth_client, user, make_character):
    make_character(user, slug="target")
    auth_client.post(URL, {**SUPPORT_BOT, "handoff_targets": [{"slug": "target"}]})
    assert auth_client.delete(detail("target")).status_code == 204
    assert auth_client.get(detail("support-bot")).json()["handoff_targets"] == []
    assert not HandoffTarget.objects.exists()


def test_list_and_retrieve_query_counts_do_not_grow(auth_client, user, make_character):
    def seed(count):
        for _ in range(count):
            character = make_character(user, allowed_origins=["https://acme.com"])
            for target in Character.objects.filter(owner=user).exclude(pk=character.pk)[:2]:
                HandoffTarget.objects.create(source=character, target=target)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert auth_client.get(url).status_code == 200
        return len(captured)

    seed(1)
    uncached_few = queries(URL)
    cached_few = queries(URL)
    seed(49)
    assert queries(URL) == uncached_few  # 49 more characters, none cached yet
    assert queries(URL) == cached_few < uncached_few
    slug = Character.objects.filter(owner=user).first().slug
    assert queries(detail(slug)) == cached_few


# Found by the fuzz stage (.ci/fuzz).


@pytest.mark.django_db(transaction=True)
def test_options_on_a_character_outside_a_transaction_is_200_not_500(auth_client, character):
    response = auth_client.options(f"/api/ai-characters/{character.slug}/")
    assert response.status_code == 200
    assert response.json()["name"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/ai-characters/%00/",
        "/api/ai-characters/Not-A-Slug/",
        "/api/knowledge-base/%00/documents/",
        "/api/agents/a%00/appearance/",
    ],
)
def test_paths_with_an_impossible_slug_are_json_404(auth_client, url):
    response = auth_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("query", ["?search=%00", "?search=a%00&limit=2&offset=44722240271"])
def test_search_with_a_null_character_is_400(auth_client, query):
    response = auth_client.get(f"/api/ai-characters/{query}")
    assert response.status_code == 400
    assert "search" in response.json()


@pytest.mark.parametrize("character_type", ["", "SUPPORT_AGENT"])
def test_an_offset_past_64_bits_is_an_empty_page(auth_client, character, character_type):
    response = auth_client.get(
        "/api/ai-characters/",
        {"character_type": character_type, "offset": "1487890209913890930688", "limit": 5},
    )
    assert response.status_code == 200
    assert response.json() == []
