"""Regressions for what the schemathesis fuzz stage (.ci/fuzz) found."""

import pytest

REQUIRED = ["This field is required."]


def item(errors, index):
    """An entry of a list's errors, whichever shape DRF gives them (list, or dict by index)."""
    return errors[index] if isinstance(errors, list) else errors[str(index)]


def test_patch_nested_form_without_id_is_400_not_500(auth_client, character):
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/",
        {"widget_appearance": {"forms": [{"title": "Book a demo"}]}},
    )
    assert response.status_code == 400
    assert item(response.json()["widget_appearance"]["forms"], 0) == {"id": REQUIRED}


def test_patch_nested_form_field_without_name_is_400(auth_client, character):
    form = {"id": "demo", "title": "Demo", "fields": [{"label": "Your name"}]}
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/", {"widget_appearance": {"forms": [form]}}
    )
    assert response.status_code == 400
    form_errors = item(response.json()["widget_appearance"]["forms"], 0)
    assert item(form_errors["fields"], 0) == {"name": REQUIRED}


def test_patch_handoff_target_without_slug_is_400(auth_client, character):
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", {"handoff_targets": [{}]})
    assert response.status_code == 400
    assert item(response.json()["handoff_targets"], 0) == {"slug": REQUIRED}


def test_patch_still_changes_only_what_it_sends(auth_client, character):
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/",
        {"widget_appearance": {"theme": {"primary_color": "#FF6B35"}}},
    )
    assert response.status_code == 200
    assert response.json()["widget_appearance"] == {"theme": {"primary_color": "#FF6B35"}}
    assert response.json()["name"] == "Support Bot"


def test_tool_kind_of_the_wrong_type_is_400_not_500(auth_client, character):
    tool = {"name": "A", "kind": {}, "input_schema": {}, "config": {}}
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", {"tools": [tool]})
    assert response.status_code == 400
    assert "kind" in item(response.json()["tools"], 0)


def test_unsafe_methods_on_unknown_api_paths_are_json_404_not_the_csrf_page(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.delete("/api/knowledge-base/x/documents/%C2%84/", HTTP_ORIGIN="https://x.y")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_unsafe_methods_on_the_widget_fetch_are_json_405_not_the_csrf_page(character):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/api/agents/{character.slug}/appearance/", HTTP_ORIGIN="https://x.y")
    assert response.status_code == 405
    assert "detail" in response.json()


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
