"""Regressions for what the schemathesis fuzz stage (.ci/fuzz) found."""

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
