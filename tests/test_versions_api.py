"""/api/ai-characters/{slug}/versions/: the list, a version, a diff and a restore, via HTTP."""

import pytest
from rest_framework.test import APIClient

from characters.models import Character, CharacterVersion
from tests.helpers import (
    CALL_LLM_KEY,
    CALL_MCP_SECRET,
    CALL_TOOL_SECRET,
    full_character,
    png_upload,
    stored_files,
)

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
MASK = "********"


def detail(slug):
    return f"{URL}{slug}/"


def versions_url(slug, *rest):
    return f"{URL}{slug}/versions/" + "".join(f"{part}/" for part in rest)


@pytest.fixture
def bot(auth_client):
    """bot at version 4: created, renamed, greeted (with a note), prompted."""
    assert auth_client.post(URL, {"slug": "bot", "name": "Bot"}).status_code == 201
    auth_client.patch(detail("bot"), {"name": "Bot Two"})
    auth_client.patch(detail("bot"), {"greeting": "Hi"}, headers={"X-Change-Note": "Warmer"})
    auth_client.patch(detail("bot"), {"system_prompt": "Be brief."})
    return "bot"


def test_the_list_is_newest_first_with_its_metadata(auth_client, user, bot):
    response = auth_client.get(versions_url(bot))
    assert response.status_code == 200
    body = response.json()
    assert [item["version"] for item in body] == [4, 3, 2, 1]
    assert set(body[0]) == {
        "version",
        "created_at",
        "author",
        "source",
        "note",
        "changed",
        "published_at",
        "published_note",
    }
    assert body[1]["note"] == "Warmer" and body[1]["changed"] == ["greeting"]
    assert body[1]["author"] == {"type": "user", "id": user.pk, "label": user.email}
    # "auto" (the default): every version is live, and so published, at once.
    assert body[1]["source"] == "api" and body[1]["published_at"] is not None


def test_the_list_pages_like_the_character_list(auth_client, bot):
    response = auth_client.get(versions_url(bot), {"limit": 2, "offset": 1})
    assert [item["version"] for item in response.json()] == [3, 2]
    assert response["X-Total-Count"] == "4"
    assert 'rel="next"' in response["Link"] and 'rel="prev"' in response["Link"]
    bad = auth_client.get(versions_url(bot), {"limit": "x"})
    assert bad.status_code == 400 and "limit" in bad.json()


def test_a_version_shows_the_character_as_it_was_then(auth_client, bot):
    response = auth_client.get(versions_url(bot, 2))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and body["changed"] == ["name"]
    character = body["character"]
    assert character["name"] == "Bot Two" and character["greeting"] == ""
    assert character["version"] == 2 and character["slug"] == "bot"
    assert "documents" not in character
    now = auth_client.get(detail(bot)).json()
    assert set(character) == set(now) - {"documents"}


def test_a_version_masks_its_secrets(auth_client):
    slug = full_character(auth_client)
    response = auth_client.get(versions_url(slug, 1))
    character = response.json()["character"]
    assert character["has_llm_api_key"] is True
    assert "llm_api_key" not in character
    assert character["tools"][0]["config"]["headers"] == {"Authorization": MASK}
    assert character["mcp_servers"][0]["headers"]["Authorization"] == MASK
    assert character["handoff_targets"] == [{"slug": "sales-bot", "name": "Sales Bot"}]
    for secret in (CALL_LLM_KEY, CALL_TOOL_SECRET, CALL_MCP_SECRET):
        assert secret not in response.content.decode()


def test_the_diff_lists_each_changed_path(auth_client, bot):
    response = auth_client.get(versions_url(bot, 1, "diff"), {"to": 3})
    assert response.status_code == 200
    assert response.json() == {
        "from": 1,
        "to": 3,
        "changes": [
            {"path": "name", "before": "Bot", "after": "Bot Two"},
            {"path": "greeting", "before": "", "after": "Hi"},
        ],
    }
    newest = auth_client.get(versions_url(bot, 3, "diff")).json()
    assert newest["to"] == 4
    assert newest["changes"] == [{"path": "system_prompt", "before": "", "after": "Be brief."}]
    backwards = auth_client.get(versions_url(bot, 4, "diff"), {"to": 3}).json()
    assert backwards["changes"] == [{"path": "system_prompt", "before": "Be brief.", "after": ""}]


def test_secrets_show_in_a_diff_masked_and_only_when_changed(auth_client):
    slug = full_character(auth_client)
    auth_client.patch(detail(slug), {"llm_api_key": "sk-another-key-0123456789"})
    tools = auth_client.get(detail(slug)).json()["tools"]
    tools[0]["config"]["headers"]["Authorization"] = "Bearer rotated-secret-42"
    auth_client.patch(detail(slug), {"tools": tools, "greeting": "New"})
    response = auth_client.get(versions_url(slug, 1, "diff"))
    assert response.json()["changes"] == [
        {"path": "greeting", "before": "Stored greeting.", "after": "New"},
        {"path": "llm_api_key", "before": MASK, "after": MASK},
        {"path": "tools[0].config.headers.Authorization", "before": MASK, "after": MASK},
    ]
    text = response.content.decode()
    assert "sk-another" not in text and "rotated-secret" not in text
    assert CALL_LLM_KEY not in text and CALL_TOOL_SECRET not in text
    cleared = auth_client.patch(detail(slug), {"llm_api_key": None})
    assert cleared.status_code == 200
    last = auth_client.get(versions_url(slug, 3, "diff")).json()["changes"]
    assert last == [{"path": "llm_api_key", "before": MASK, "after": None}]


@pytest.mark.parametrize(("to", "status"), [("x", 400), ("-1", 400), ("99", 404)])
def test_a_bad_or_unknown_diff_target(auth_client, bot, to, status):
    response = auth_client.get(versions_url(bot, 1, "diff"), {"to": to})
    assert response.status_code == status
    if status == 400:
        assert "to" in response.json()


def test_restore_records_a_new_version_equal_to_the_old_one(auth_client, user, bot):
    response = auth_client.post(versions_url(bot, 2, "restore"), headers={"X-Change-Note": "Undo"})
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 5
    assert (body["name"], body["greeting"], body["system_prompt"]) == ("Bot Two", "", "")
    assert response["ETag"] == auth_client.get(detail(bot))["ETag"]
    version = auth_client.get(versions_url(bot, 5)).json()
    assert version["source"] == "restore" and version["note"] == "Undo"
    assert version["author"]["id"] == user.pk
    assert sorted(version["changed"]) == ["greeting", "system_prompt"]
    assert auth_client.get(versions_url(bot, 2, "diff"), {"to": 5}).json()["changes"] == []
    # Restoring what it already is changes nothing.
    again = auth_client.post(versions_url(bot, 5, "restore"))
    assert again.status_code == 200 and again.json()["version"] == 5


def test_restore_brings_back_secrets_handoffs_and_files(auth_client, settings):
    slug = full_character(auth_client)
    auth_client.patch(detail(slug), {"image": png_upload()}, format="multipart")
    first_image = Character.objects.get(slug=slug).image.name
    auth_client.patch(detail(slug), {"image": png_upload("other.png")}, format="multipart")
    auth_client.patch(
        detail(slug),
        {"llm_api_key": None, "tools": [], "mcp_servers": [], "handoff_targets": []},
    )
    assert first_image in stored_files(settings.MEDIA_ROOT)
    response = auth_client.post(versions_url(slug, 2, "restore"))
    assert response.status_code == 200
    body = response.json()
    assert body["has_llm_api_key"] is True
    assert body["handoff_targets"] == [{"slug": "sales-bot", "name": "Sales Bot"}]
    assert body["image"].endswith(first_image)
    restored = Character.objects.get(slug=slug)
    assert restored.llm_api_key == CALL_LLM_KEY
    assert restored.tools[0]["config"]["headers"]["Authorization"] == CALL_TOOL_SECRET
    assert restored.image.name == first_image


def test_restore_honours_if_match(auth_client, bot):
    stale = auth_client.get(detail(bot))["ETag"]
    auth_client.patch(detail(bot), {"name": "Meanwhile"})
    refused = auth_client.post(versions_url(bot, 1, "restore"), HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert Character.objects.get(slug=bot).name == "Meanwhile"
    current = auth_client.get(detail(bot))["ETag"]
    assert (
        auth_client.post(versions_url(bot, 1, "restore"), HTTP_IF_MATCH=current).status_code == 200
    )
    assert Character.objects.get(slug=bot).name == "Bot"


def test_restore_leaves_out_a_handoff_target_deleted_since(auth_client):
    auth_client.post(URL, {"slug": "target", "name": "Target"})
    auth_client.post(URL, {"slug": "bot", "name": "Bot", "handoff_targets": [{"slug": "target"}]})
    auth_client.patch(detail("bot"), {"handoff_targets": []})
    auth_client.delete(detail("target"))
    shown = auth_client.get(versions_url("bot", 1)).json()["character"]
    assert shown["handoff_targets"] == [{"slug": "target", "name": None}]
    response = auth_client.post(versions_url("bot", 1, "restore"))
    assert response.status_code == 200 and response.json()["handoff_targets"] == []


def test_a_bad_note_on_restore_is_a_400(auth_client, bot):
    response = auth_client.post(
        versions_url(bot, 1, "restore"), headers={"X-Change-Note": "x" * 501}
    )
    assert response.status_code == 400 and "X-Change-Note" in response.json()
    assert CharacterVersion.objects.filter(character__slug=bot).count() == 4


@pytest.mark.parametrize(
    "path", [(), (1,), (1, "diff"), (99,)], ids=["list", "detail", "diff", "unknown"]
)
def test_someone_elses_character_is_a_404_and_no_token_a_401(other_client, bot, path):
    assert other_client.get(versions_url(bot, *path)).status_code == 404
    assert APIClient().get(versions_url(bot, *path)).status_code == 401


def test_someone_else_cannot_restore(other_client, bot):
    assert other_client.post(versions_url(bot, 1, "restore")).status_code == 404
    assert Character.objects.get(slug=bot).version == 4
    assert APIClient().post(versions_url(bot, 1, "restore")).status_code == 401


def test_an_unknown_version_is_a_404(auth_client, bot):
    assert auth_client.get(versions_url(bot, 99)).status_code == 404
    assert auth_client.post(versions_url(bot, 99, "restore")).status_code == 404


def test_the_schema_documents_the_versions_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/ai-characters/{slug}/versions/"]
    assert "get" in paths["/api/ai-characters/{slug}/versions/{number}/"]
    assert "get" in paths["/api/ai-characters/{slug}/versions/{number}/diff/"]
    restore = paths["/api/ai-characters/{slug}/versions/{number}/restore/"]["post"]
    headers = {p["name"] for p in restore["parameters"] if p["in"] == "header"}
    assert {"If-Match", "X-Change-Note"} <= headers
    assert "version" in schema["components"]["schemas"]["Character"]["properties"]


@pytest.mark.parametrize("number", ["2147483648", "9999999999", "99999999999", "0"])
def test_a_number_past_any_version_is_a_404_not_an_overflow(auth_client, bot, number):
    assert auth_client.get(versions_url(bot, number)).status_code == 404
    assert auth_client.get(versions_url(bot, number, "diff")).status_code == 404
    assert auth_client.post(versions_url(bot, number, "restore")).status_code == 404
    assert auth_client.get(versions_url(bot, 1, "diff"), {"to": number}).status_code == 404


def test_a_diff_target_of_thousands_of_digits_is_a_404(auth_client, bot):
    response = auth_client.get(versions_url(bot, 1, "diff"), {"to": "9" * 5000})
    assert response.status_code == 404


def test_every_page_of_a_history_with_gaps_is_the_plain_pagings(auth_client, bot):
    """Deep pages start at an anchor version number (characters/api/pagination.py): with
    versions pruned in between, each page still holds the rows plain OFFSET would."""
    for number in range(5, 13):
        auth_client.patch(detail(bot), {"greeting": f"Hello {number}"})
    CharacterVersion.objects.filter(character__slug=bot, number__in=[2, 6, 7, 11]).delete()
    numbers = list(
        CharacterVersion.objects.filter(character__slug=bot)
        .order_by("-number")
        .values_list("number", flat=True)
    )
    assert len(numbers) == 8
    for limit in (1, 3):
        for offset in range(len(numbers) + 2):
            response = auth_client.get(versions_url(bot), {"limit": limit, "offset": offset})
            assert response["X-Total-Count"] == str(len(numbers))
            page = [item["version"] for item in response.json()]
            assert page == numbers[offset : offset + limit], (limit, offset)
